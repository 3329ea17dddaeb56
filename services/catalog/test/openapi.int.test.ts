import { assertOpenApiMatchesRoutes, type OpenApiDocument } from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, startCatalog } from './harness.ts';

interface Schema {
  type?: unknown;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  [keyword: string]: unknown;
}
type Content = Record<string, { schema: Schema }>;
interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Content };
  responses: Record<string, { content?: Content; $ref?: string }>;
}

let catalog: Catalog;
let doc: OpenApiDocument;
beforeAll(async () => {
  catalog = await startCatalog();
  const res = await catalog.app.inject({ url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json<OpenApiDocument>();
});
afterAll(async () => {
  await catalog?.stop();
});

function operation(path: string, method: 'get' | 'post' | 'patch'): Operation {
  const found = doc.paths?.[path]?.[method];
  if (!found) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  return found as unknown as Operation;
}

const parameterNames = (op: Operation) =>
  (op.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort();
const bodySchema = (op: Operation) => op.requestBody!.content['application/json']!.schema;
const responseSchema = (op: Operation, status: string) =>
  op.responses[status]!.content!['application/json']!.schema;

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
    const create = operation('/v1/orgs/{orgId}/events', 'post');
    expect(parameterNames(create)).toContain('path:orgId');
    const body = bodySchema(create);
    expect(body.type).toBe('object');
    expect(body.required).toEqual(
      expect.arrayContaining(['name', 'category', 'startsAt', 'endsAt', 'totalSlots']),
    );
    expect(body.required).not.toContain('description');
    const created = responseSchema(create, '201');
    expect(created.required).toEqual(
      expect.arrayContaining(['id', 'orgId', 'status', 'availableSlots', 'version']),
    );
  });

  it('describes the public listing as a filtered page of events', () => {
    const list = operation('/v1/events', 'get');
    expect(parameterNames(list)).toEqual([
      'query:category',
      'query:cursor',
      'query:from',
      'query:limit',
      'query:orgId',
      'query:q',
      'query:to',
    ]);
    const page = responseSchema(list, '200');
    expect(page.required).toEqual(['items', 'nextCursor']);
    expect(page.properties?.items?.items?.required).toContain('startsAt');
  });

  it('describes cancel with its reason and publish without a body', () => {
    expect(bodySchema(operation('/v1/events/{eventId}/cancel', 'post')).required).toEqual([
      'reason',
    ]);
    const publish = operation('/v1/events/{eventId}/publish', 'post');
    expect(publish.requestBody).toBeUndefined();
    expect(responseSchema(publish, '200').required).toContain('publishedAt');
  });
});
