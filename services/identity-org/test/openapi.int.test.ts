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
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
let doc: OpenApiDocument;
beforeAll(async () => {
  h = await startHarness();
  doc = await fetchOpenApiDocument(h.app);
});
afterAll(async () => {
  await h?.stop();
});

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
    const signup = documentedOperation(doc, '/v1/signup', 'post');
    expect(requestBodySchema(signup)).toMatchObject({
      type: 'object',
      required: ['organizationName'],
      properties: { organizationName: { type: 'string', minLength: 1, maxLength: 200 } },
    });
    expect(responseBodySchema(signup, '201')).toMatchObject({
      type: 'object',
      required: ['user', 'organization', 'membership'],
    });
    expect(signup.responses['401']).toEqual({ $ref: '#/components/responses/Unauthenticated' });
  });

  it('documents the 400 that GET /v1/me answers to a query parameter it does not take', async () => {
    const me = documentedOperation(doc, '/v1/me', 'get');
    expect(me.responses['400']).toEqual({ $ref: '#/components/responses/ValidationProblem' });
    const refused = await h.call(await h.user(), 'GET', '/v1/me?verbose=1');
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('describes member listing as a page and member removal as 204', () => {
    const list = documentedOperation(doc, '/v1/orgs/{orgId}/members', 'get');
    expect(parameterNames(list)).toEqual(['path:orgId', 'query:cursor', 'query:limit']);
    const page = responseBodySchema(list, '200');
    expect(page.required).toEqual(['items', 'nextCursor']);
    expect(page.properties?.items?.items?.required).toEqual(
      expect.arrayContaining(['organizationId', 'userId', 'role', 'email', 'name']),
    );

    const remove = documentedOperation(doc, '/v1/orgs/{orgId}/members/{userId}', 'delete');
    expect(Object.keys(remove.responses)).toContain('204');
    expect(remove.responses).not.toHaveProperty('200');
  });

  it('describes /v1/me with the first page of memberships, and the rest as a page', () => {
    const me = responseBodySchema(documentedOperation(doc, '/v1/me', 'get'), '200');
    expect(me.required).toEqual(['user', 'memberships', 'membershipsNextCursor']);
    const list = documentedOperation(doc, '/v1/me/memberships', 'get');
    expect(parameterNames(list)).toEqual(['query:cursor', 'query:limit']);
    const page = responseBodySchema(list, '200');
    expect(page.required).toEqual(['items', 'nextCursor']);
    expect(page.properties?.items?.items?.required).toEqual(['organization', 'role']);
    expect(list.responses['400']).toBeDefined();
  });

  it.each([
    ['/v1/orgs/{orgId}', ['header:if-match', 'path:orgId']],
    ['/v1/orgs/{orgId}/members/{userId}', ['header:if-match', 'path:orgId', 'path:userId']],
  ])('describes PATCH %s with its required If-Match, 412, 428 and ETag', (path, parameters) => {
    const patch = documentedOperation(doc, path, 'patch');
    expect(parameterNames(patch)).toEqual(parameters);
    expect(patch.parameters?.find((p) => p.name === 'if-match')).toMatchObject({ required: true });
    expect(patch.responses['412']).toEqual({ $ref: '#/components/responses/VersionMismatch' });
    expect(patch.responses['428']).toEqual({
      $ref: '#/components/responses/PreconditionRequired',
    });
    expect(patch.responses['200']).toMatchObject({ headers: { ETag: expect.any(Object) } });
  });

  it('declares the ETag a read of the organization answers with, and no If-Match answers for it', () => {
    const get = documentedOperation(doc, '/v1/orgs/{orgId}', 'get');
    expect(get.responses['200']).toMatchObject({ headers: { ETag: expect.any(Object) } });
    expect(get.responses).not.toHaveProperty('412');
  });

  it('describes invites: creation returns the one-time token', () => {
    const create = documentedOperation(doc, '/v1/orgs/{orgId}/invites', 'post');
    expect(requestBodySchema(create).required).toEqual(['email', 'role']);
    expect(responseBodySchema(create, '201').required).toContain('token');
    expect(create.description).toMatch(/429 INVITE_LIMIT, with Retry-After/);
    expect(create.description).toMatch(
      /INVITES_PER_ADDRESS_PER_DAY.*INVITES_PER_ORG_PER_DAY.*INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS/s,
    );
    expect(
      requestBodySchema(documentedOperation(doc, '/v1/invites/accept', 'post')).required,
    ).toEqual(['token']);
  });

  it('declares the Location of every 201, on the routes that create', () => {
    const created = [...operationsOf(doc)].filter(
      ([, , operation]) => operation.responses?.['201'],
    );
    expect(created.map(([path, method]) => `${method.toUpperCase()} ${path}`).sort()).toEqual([
      'POST /v1/orgs',
      'POST /v1/orgs/{orgId}/invites',
      'POST /v1/signup',
    ]);
    for (const [, , operation] of created) {
      expect(operation.responses?.['201']).toMatchObject({
        headers: { Location: expect.any(Object) },
      });
    }
  });
});
