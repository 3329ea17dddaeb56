import {
  assertOpenApiMatchesRoutes,
  documentedOperation,
  fetchOpenApiDocument,
  type OpenApiDocument,
  operationsOf,
  parameterNames,
  requestBodySchema,
  responseBodySchema,
} from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, startCatalog } from './harness.ts';

let catalog: Catalog;
let doc: OpenApiDocument;
beforeAll(async () => {
  catalog = await startCatalog();
  doc = await fetchOpenApiDocument(catalog.app);
});
afterAll(async () => {
  await catalog?.stop();
});

describe('catalog OpenAPI document', () => {
  it('documents every route it serves, and nothing else', async () => {
    await assertOpenApiMatchesRoutes(catalog.app);
  });

  it('names the service', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Happening catalog API', version: '1.0.0' });
    expect(doc.info.description).toBeTruthy();
  });

  it('describes event creation with its body and the created event', () => {
    const create = documentedOperation(doc, '/v1/orgs/{orgId}/events', 'post');
    expect(parameterNames(create)).toContain('path:orgId');
    const body = requestBodySchema(create);
    expect(body.type).toBe('object');
    expect(body.required).toEqual(
      expect.arrayContaining(['name', 'category', 'startsAt', 'endsAt', 'totalSlots']),
    );
    expect(body.required).not.toContain('description');
    // Its default depends on totalSlots, which a JSON Schema default cannot say.
    const maxSeats = body.properties?.maxSeatsPerBooking;
    expect(maxSeats).not.toHaveProperty('default');
    expect(maxSeats?.description).toBe(
      'At most totalSlots; when omitted, the smaller of 10 and totalSlots.',
    );
    const created = responseBodySchema(create, '201');
    expect(created.required).toEqual(
      expect.arrayContaining(['id', 'orgId', 'status', 'availableSlots', 'version']),
    );
  });

  it('describes the public listing as a filtered page of events', () => {
    const list = documentedOperation(doc, '/v1/events', 'get');
    expect(parameterNames(list)).toEqual([
      'query:category',
      'query:cursor',
      'query:from',
      'query:limit',
      'query:orgId',
      'query:q',
      'query:to',
    ]);
    const page = responseBodySchema(list, '200');
    expect(page.required).toEqual(['items', 'nextCursor']);
    expect(page.properties?.items?.items?.required).toContain('startsAt');
  });

  it('describes PATCH with its required If-Match, its 412 and 428 and the new ETag', () => {
    const patch = documentedOperation(doc, '/v1/events/{eventId}', 'patch');
    expect(parameterNames(patch)).toEqual(['header:if-match', 'path:eventId']);
    expect(patch.parameters?.find((p) => p.name === 'if-match')).toMatchObject({ required: true });
    expect(patch.responses['412']).toEqual({ $ref: '#/components/responses/VersionMismatch' });
    expect(patch.responses['428']).toEqual({
      $ref: '#/components/responses/PreconditionRequired',
    });
    expect(patch.responses['200']).toMatchObject({ headers: { ETag: expect.any(Object) } });
    expect(responseBodySchema(patch, '200').required).toContain('version');
    expect(requestBodySchema(patch).properties?.totalSlots?.description).toBe(
      'A cut below the seats booking reported confirmed is refused (409 CAPACITY_BELOW_CONFIRMED); a raise never is, even one that stays below them.',
    );
  });

  it('describes the status the events show and the org list filters by as the clock’s', () => {
    const list = documentedOperation(doc, '/v1/orgs/{orgId}/events', 'get');
    const status = list.parameters?.find((p) => p.name === 'status');
    expect(status).toMatchObject({
      in: 'query',
      description: expect.stringContaining('the one the clock implies'),
    });
    const event = responseBodySchema(
      documentedOperation(doc, '/v1/events/{eventId}', 'get'),
      '200',
    );
    expect(event.properties?.status?.description).toContain("service's clock implies");
  });

  it('describes cancel with its reason and publish with an optional empty body', () => {
    expect(
      requestBodySchema(documentedOperation(doc, '/v1/events/{eventId}/cancel', 'post')).required,
    ).toEqual(['reason']);
    const publish = documentedOperation(doc, '/v1/events/{eventId}/publish', 'post');
    expect(publish.requestBody).toMatchObject({ required: false });
    expect(responseBodySchema(publish, '200').required).toContain('publishedAt');
  });

  it('declares the ETag the event, publish and cancel answers carry, and no If-Match answers for them', () => {
    const get = documentedOperation(doc, '/v1/events/{eventId}', 'get');
    const publish = documentedOperation(doc, '/v1/events/{eventId}/publish', 'post');
    const cancel = documentedOperation(doc, '/v1/events/{eventId}/cancel', 'post');
    for (const operation of [get, publish, cancel]) {
      expect(operation.responses['200']).toMatchObject({ headers: { ETag: expect.any(Object) } });
      expect(operation.responses).not.toHaveProperty('412');
      expect(Object.keys(operation).filter((key) => key.startsWith('x-'))).toEqual([]);
    }
  });

  it('declares the Location of every 201, on the routes that create', () => {
    const created = [...operationsOf(doc)].filter(
      ([, , operation]) => operation.responses?.['201'],
    );
    expect(created.map(([path, method]) => `${method.toUpperCase()} ${path}`).sort()).toEqual([
      'POST /v1/orgs/{orgId}/events',
    ]);
    for (const [, , operation] of created) {
      expect(operation.responses?.['201']).toMatchObject({
        headers: { Location: expect.any(Object) },
      });
    }
  });
});
