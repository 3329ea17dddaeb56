import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type App,
  assertOpenApiMatchesRoutes,
  createApp,
  fetchOpenApiDocument,
  type OpenApiDocument,
  openApiMismatches,
} from '../src/index.ts';
import { captureLogs } from './log-capture.ts';

type Operation = OpenAPIV3_1.OperationObject;
type Parameter = OpenAPIV3_1.ParameterObject;
type Schema = OpenAPIV3_1.SchemaObject;

const ROUTE = '/v1/orgs/{orgId}/things/{thingId}';

describe('OpenAPI document', () => {
  let app: App;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    app = createApp({
      name: 'things',
      logger: captureLogs().logger,
      openapi: { title: 'Things API', version: '3.2.1', description: 'Things and more.' },
    });
    // Declared right after createApp, before anything awaited: must still be documented.
    app.post(
      '/v1/orgs/:orgId/things/:thingId',
      {
        schema: {
          params: z.object({ orgId: z.uuid(), thingId: z.uuid() }),
          querystring: z.object({ dryRun: z.enum(['true', 'false']).optional() }),
          body: z.object({ name: z.string().min(1), note: z.string().nullable() }),
          response: { 201: z.object({ id: z.uuid(), seats: z.number().int() }) },
        },
      },
      async (request, reply) => reply.status(201).send({ id: request.params.thingId, seats: 1 }),
    );
    app.register(async (child) => {
      child.delete('/v1/things/:thingId', async (_request, reply) => reply.status(204).send());
    });
    doc = await fetchOpenApiDocument(app);
  });

  afterAll(() => app.close());

  const operation = (path: string, method: 'get' | 'post' | 'delete'): Operation => {
    const op = doc.paths?.[path]?.[method];
    if (!op) throw new Error(`${method} ${path} missing`);
    return op;
  };

  it('is OpenAPI 3.1 with the given info', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({
      title: 'Things API',
      version: '3.2.1',
      description: 'Things and more.',
    });
  });

  it('documents params, query, body and response from the zod schemas', () => {
    const op = operation(ROUTE, 'post');
    const params = (op.parameters ?? []) as Parameter[];
    expect(params.filter((p) => p.in === 'path').map((p) => [p.name, p.required])).toEqual([
      ['orgId', true],
      ['thingId', true],
    ]);
    const dryRun = params.find((p) => p.in === 'query' && p.name === 'dryRun');
    expect(dryRun?.required).toBe(false);
    expect(dryRun?.schema).toMatchObject({ type: 'string', enum: ['true', 'false'] });

    const body = (op.requestBody as OpenAPIV3_1.RequestBodyObject).content['application/json']
      ?.schema as Schema;
    expect(body.required).toEqual(['name', 'note']);
    // JSON Schema 2020-12 spelling of a nullable field: OpenAPI 3.1, not 3.0's `nullable`.
    expect(body.properties?.note).toEqual({ type: ['string', 'null'] });

    const created = op.responses?.['201'] as OpenAPIV3_1.ResponseObject;
    expect(created.description).toBe('Created');
    expect(created.content?.['application/json']?.schema).toMatchObject({
      type: 'object',
      properties: { id: { type: 'string', format: 'uuid' }, seats: { type: 'integer' } },
    });
  });

  it('declares bearer auth and problem+json error answers', () => {
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components?.securitySchemes?.bearerAuth).toEqual({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    expect(doc.components?.schemas?.Problem?.required).toEqual([
      'type',
      'title',
      'status',
      'detail',
      'code',
    ]);
    const responses = operation(ROUTE, 'post').responses ?? {};
    expect(responses['400']).toEqual({ $ref: '#/components/responses/ValidationProblem' });
    expect(responses['401']).toEqual({ $ref: '#/components/responses/Unauthenticated' });
    expect(responses.default).toEqual({ $ref: '#/components/responses/Problem' });
    expect(doc.components?.responses?.Problem).toMatchObject({
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
  });

  it('documents routes of child plugins and leaves out health, metrics and itself', () => {
    expect(operation('/v1/things/{thingId}', 'delete')).toBeDefined();
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual([ROUTE, '/v1/things/{thingId}']);
  });

  it('matches the registered routes', async () => {
    await expect(assertOpenApiMatchesRoutes(app)).resolves.toBeUndefined();
    expect(openApiMismatches(app, doc)).toEqual([]);
  });

  describe('openApiMismatches', () => {
    const mutated = (change: (copy: OpenApiDocument) => void): OpenApiDocument => {
      const copy = structuredClone(doc);
      change(copy);
      return copy;
    };
    const post = (copy: OpenApiDocument) => copy.paths?.[ROUTE]?.post as Operation;

    it('reports an undocumented route', () => {
      const problems = openApiMismatches(
        app,
        mutated((copy) => {
          delete copy.paths?.['/v1/things/{thingId}'];
        }),
      );
      expect(problems).toEqual(['DELETE /v1/things/{thingId}: not documented']);
    });

    it('reports a documented operation without a route', () => {
      const problems = openApiMismatches(
        app,
        mutated((copy) => {
          (copy.paths as Record<string, unknown>)['/v1/ghosts'] = { get: { responses: {} } };
        }),
      );
      expect(problems).toEqual(['GET /v1/ghosts: documented but no such route']);
    });

    it('reports wrong path and query parameters', () => {
      const problems = openApiMismatches(
        app,
        mutated((copy) => {
          post(copy).parameters = [{ in: 'path', name: 'orgId', required: true }];
        }),
      );
      expect(problems).toEqual([
        `POST ${ROUTE}: path parameters [orgId] != [orgId,thingId]`,
        `POST ${ROUTE}: query parameters [] != [dryRun]`,
      ]);
    });

    it('reports a missing body or response schema', () => {
      const problems = openApiMismatches(
        app,
        mutated((copy) => {
          delete post(copy).requestBody;
          delete (post(copy).responses as Record<string, unknown>)['201'];
        }),
      );
      expect(problems).toEqual([
        `POST ${ROUTE}: request body schema is missing`,
        `POST ${ROUTE}: response 201 is not documented`,
      ]);
    });
  });

  it('can be left out, freeing /openapi.json', async () => {
    const bare = createApp({ name: 'bare', logger: captureLogs().logger, openapi: false });
    bare.get('/openapi.json', async () => ({ mine: true }));
    const res = await bare.inject({ url: '/openapi.json' });
    expect(res.json()).toEqual({ mine: true });
    await bare.close();
  });

  it('is fetched only from an app that answers it', async () => {
    const bare = createApp({ name: 'bare', logger: captureLogs().logger, openapi: false });
    await expect(fetchOpenApiDocument(bare)).rejects.toThrow('GET /openapi.json answered 404');
    await bare.close();
  });
});
