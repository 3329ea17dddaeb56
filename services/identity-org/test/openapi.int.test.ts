import { assertOpenApiMatchesRoutes, type OpenApiDocument } from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

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

let h: Harness;
let doc: OpenApiDocument;
beforeAll(async () => {
  h = await startHarness();
  const res = await h.app.inject({ url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json<OpenApiDocument>();
});
afterAll(async () => {
  await h?.stop();
});

function operation(path: string, method: 'get' | 'post' | 'patch' | 'delete'): Operation {
  const found = doc.paths?.[path]?.[method];
  if (!found) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  return found as unknown as Operation;
}

function bodySchema(op: Operation): Schema {
  return op.requestBody!.content['application/json']!.schema;
}

function responseSchema(op: Operation, status: string): Schema {
  return op.responses[status]!.content!['application/json']!.schema;
}

describe('identity-org OpenAPI document', () => {
  it('documents every route it serves, and nothing else', async () => {
    await assertOpenApiMatchesRoutes(h.app);
  });

  it('names the service', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Happening identity-org API', version: '1.0.0' });
    expect(doc.info.description).toBeTruthy();
  });

  it('describes sign-up with its body and created answer', () => {
    const signup = operation('/v1/signup', 'post');
    expect(bodySchema(signup)).toMatchObject({
      type: 'object',
      required: ['organizationName'],
      properties: { organizationName: { type: 'string', minLength: 1, maxLength: 200 } },
    });
    expect(responseSchema(signup, '201')).toMatchObject({
      type: 'object',
      required: ['user', 'organization', 'membership'],
    });
    expect(signup.responses['401']).toEqual({ $ref: '#/components/responses/Unauthenticated' });
  });

  it('describes member listing as a page and member removal as 204', () => {
    const list = operation('/v1/orgs/{orgId}/members', 'get');
    expect((list.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort()).toEqual([
      'path:orgId',
      'query:cursor',
      'query:limit',
    ]);
    const page = responseSchema(list, '200');
    expect(page.required).toEqual(['items', 'nextCursor']);
    expect(page.properties?.items?.items?.required).toEqual(
      expect.arrayContaining(['organizationId', 'userId', 'role', 'email', 'name']),
    );

    const remove = operation('/v1/orgs/{orgId}/members/{userId}', 'delete');
    expect(Object.keys(remove.responses)).toContain('204');
    expect(remove.responses).not.toHaveProperty('200');
  });

  it('describes invites: creation returns the one-time token', () => {
    const create = operation('/v1/orgs/{orgId}/invites', 'post');
    expect(bodySchema(create).required).toEqual(['email', 'role']);
    expect(responseSchema(create, '201').required).toContain('token');
    expect(bodySchema(operation('/v1/invites/accept', 'post')).required).toEqual(['token']);
  });
});
