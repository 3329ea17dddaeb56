import {
  assertOpenApiMatchesRoutes,
  documentedOperation,
  fetchOpenApiDocument,
  type OpenApiDocument,
  parameterNames,
  requestBodySchema,
  responseBodySchema,
} from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
let doc: OpenApiDocument;
beforeAll(async () => {
  h = await startHarness({ retryDelaysMs: [200] });
  doc = await fetchOpenApiDocument(h.app);
});
afterAll(async () => {
  await h?.stop();
});

describe('notification OpenAPI document', () => {
  it('documents every route it serves, and nothing else', async () => {
    await assertOpenApiMatchesRoutes(h.app);
  });

  it('names the service', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Happening notification API', version: '1.0.0' });
    expect(doc.info.description).toBeTruthy();
  });

  it('describes the caller’s notifications as a page filtered by status', () => {
    const list = documentedOperation(doc, '/v1/me/notifications', 'get');
    expect(parameterNames(list)).toEqual(['query:cursor', 'query:limit', 'query:status']);
    const page = responseBodySchema(list, '200');
    expect(page.required).toEqual(['items', 'nextCursor']);
    expect(page.properties?.items?.items?.properties?.status).toMatchObject({
      enum: ['pending', 'sent', 'failed', 'skipped'],
    });
  });

  it('describes preferences with the same body in and out', () => {
    const put = documentedOperation(doc, '/v1/me/notification-preferences', 'put');
    const get = documentedOperation(doc, '/v1/me/notification-preferences', 'get');
    for (const schema of [
      requestBodySchema(put),
      responseBodySchema(put, '200'),
      responseBodySchema(get, '200'),
    ]) {
      expect(schema.required).toEqual(['preferences']);
      expect(schema.properties?.preferences?.items?.required).toEqual([
        'type',
        'channel',
        'enabled',
      ]);
    }
  });

  it('describes errors as problem+json answers', () => {
    const retry = documentedOperation(doc, '/v1/notifications/{id}/retry', 'post');
    expect(responseBodySchema(retry, '202').required).toContain('lastError');
    expect(retry.responses['400']).toEqual({ $ref: '#/components/responses/ValidationProblem' });
    expect(retry.responses['401']).toEqual({ $ref: '#/components/responses/Unauthenticated' });
    expect(retry.responses.default).toEqual({ $ref: '#/components/responses/Problem' });
    expect(retry.description).toContain('NOTIFICATION_NOT_FAILED');
  });
});
