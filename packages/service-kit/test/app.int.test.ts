import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type App,
  createApp,
  DomainError,
  ifMatchVersion,
  metricsRegistry,
  pageQuerySchema,
} from '../src/index.ts';
import { captureLogs } from './log-capture.ts';
import { sendRaw as sendRawTo } from './raw-http.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PROBLEM = 'application/problem+json; charset=utf-8';

describe('createApp', () => {
  let app: App;
  const { logger, lines } = captureLogs();
  let dbReady = true;

  beforeAll(async () => {
    app = createApp({
      name: 'test-service',
      logger,
      bodyLimit: 1024,
      readinessTimeoutMs: 200,
      readinessChecks: {
        postgres: async () => {
          if (!dbReady) throw new Error('connection refused to 10.0.0.5');
        },
        redis: async () => undefined,
      },
    });
    app.post(
      '/v1/things/:thingId',
      {
        schema: {
          params: z.object({ thingId: z.uuid() }),
          querystring: z.object({ dryRun: z.enum(['true', 'false']).optional() }),
          body: z.object({ name: z.string().min(1), seats: z.number().int().positive() }),
          response: { 201: z.object({ id: z.string(), name: z.string() }) },
        },
      },
      async (request, reply) =>
        reply.status(201).send({ id: request.params.thingId, name: request.body.name }),
    );
    app.get('/v1/things/:thingId', async (request) => {
      const { thingId } = request.params as { thingId: string };
      if (thingId === 'busy' || thingId === 'limited') {
        const status = thingId === 'busy' ? 503 : 429;
        throw new DomainError('TRY_LATER', status, 'Not now.', { retryAfterSeconds: 7 });
      }
      if (thingId === 'deadlocked') {
        // As pg reports a transaction Postgres ended to break a deadlock.
        throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      }
      if (thingId === 'taken') {
        throw new DomainError('BOOKING_SEATS_TAKEN', 409, 'Those seats are taken.', {
          seats: [3, 4],
        });
      }
      return { id: thingId };
    });
    app.get(
      '/v1/pages',
      { schema: { querystring: pageQuerySchema.extend({ status: z.string().optional() }) } },
      async (request) => request.query,
    );
    app.get(
      '/v1/profile',
      { schema: { response: { 200: z.object({ name: z.string() }) } } },
      async () => ({ name: 'Ada' }),
    );
    app.post(
      '/v1/profile/refresh',
      { schema: { response: { 200: z.object({ refreshed: z.boolean() }) } } },
      async () => ({ refreshed: true }),
    );
    app.get('/boom', async () => {
      throw new Error('password=hunter2 at db.internal:5432');
    });
    app.patch('/v1/versioned', async (request) => ({ expected: ifMatchVersion(request) }));
    await app.ready();
  });

  afterAll(() => app.close());

  describe('request ids', () => {
    it('echoes a well-formed x-request-id and logs it', async () => {
      const res = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'gw-123' } });
      expect(res.headers['x-request-id']).toBe('gw-123');
      expect(lines.some((l) => l.requestId === 'gw-123')).toBe(true);
    });

    it('logs the caller’s own id, passed on as x-client-request-id, with the request', async () => {
      await app.inject({
        url: '/boom',
        headers: { 'x-request-id': 'gw-456', 'x-client-request-id': 'client-789' },
      });
      const logged = lines.filter((l) => l.requestId === 'gw-456');
      expect(logged.length).toBeGreaterThan(1);
      expect(logged.every((l) => l.clientRequestId === 'client-789')).toBe(true);
      await app.inject({
        url: '/healthz',
        headers: { 'x-request-id': 'gw-457', 'x-client-request-id': 'bad id\t!' },
      });
      expect(
        lines.filter((l) => l.requestId === 'gw-457').some((l) => 'clientRequestId' in l),
      ).toBe(false);
    });

    it('replaces a malformed x-request-id with a UUID', async () => {
      const res = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\t!' } });
      expect(res.headers['x-request-id']).toMatch(UUID);
    });

    it('generates a UUID when none is sent, also on errors', async () => {
      const res = await app.inject({ url: '/nowhere' });
      expect(res.headers['x-request-id']).toMatch(UUID);
    });

    it('logs with the service name', async () => {
      await app.inject({ url: '/healthz' });
      expect(lines.every((l) => l.name === 'test-service')).toBe(true);
    });
  });

  describe('problem+json errors', () => {
    it('turns zod validation failures into 400 VALIDATION_FAILED with field paths', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/things/0b9f4c7e-8a39-4b53-9a4e-9d9a1c4f0a11',
        payload: { name: '', seats: 0 },
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toBe(PROBLEM);
      const body = res.json();
      expect(body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', title: 'Bad Request' });
      expect(body.type).toEqual(expect.any(String));
      expect(body.detail).toEqual(expect.any(String));
      expect(body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
        'body.name',
        'body.seats',
      ]);
      expect(body.errors[0].message).toEqual(expect.any(String));
    });

    it('names params and query in validation paths', async () => {
      const params = await app.inject({
        method: 'POST',
        url: '/v1/things/nope',
        payload: { name: 'a', seats: 1 },
      });
      expect(params.json().errors).toEqual([
        { path: 'params.thingId', message: expect.any(String) },
      ]);
      const query = await app.inject({
        method: 'POST',
        url: '/v1/things/0b9f4c7e-8a39-4b53-9a4e-9d9a1c4f0a11?dryRun=maybe',
        payload: { name: 'a', seats: 1 },
      });
      expect(query.json().errors).toEqual([{ path: 'query.dryRun', message: expect.any(String) }]);
    });

    it('names each unknown query parameter of a page query at its own path', async () => {
      const res = await app.inject({ url: '/v1/pages?limit=5&Status=open&sort=name' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(res.json().errors).toEqual([
        { path: 'query.Status', message: expect.stringContaining('Status') },
        { path: 'query.sort', message: expect.stringContaining('sort') },
      ]);
      const known = await app.inject({ url: '/v1/pages?limit=5&status=open' });
      expect(known.json()).toEqual({ limit: 5, status: 'open' });
    });

    it('refuses any query parameter on an API route that declares none', async () => {
      const res = await app.inject({ url: '/v1/profile?verbose=1' });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([
        { path: 'query.verbose', message: expect.stringContaining('verbose') },
      ]);
      expect((await app.inject({ url: '/v1/profile' })).json()).toEqual({ name: 'Ada' });
      // Probes and routes outside the API take what they are sent.
      expect((await app.inject({ url: '/healthz?probe=kubelet' })).statusCode).toBe(200);
    });

    it('refuses a body with fields on an API route that declares none; nothing or {} is fine', async () => {
      const post = (payload?: string, contentType = 'application/json') =>
        app.inject({
          method: 'POST',
          url: '/v1/profile/refresh',
          ...(payload === undefined ? {} : { payload, headers: { 'content-type': contentType } }),
        });
      for (const accepted of [undefined, '', '{}']) {
        const res = await post(accepted);
        expect(res.statusCode, String(accepted)).toBe(200);
      }
      const withField = await post('{"anything":1}');
      expect(withField.statusCode).toBe(400);
      expect(withField.json().errors).toEqual([
        { path: 'body.anything', message: expect.stringContaining('anything') },
      ]);
      expect((await post('x=1', 'text/plain')).statusCode).toBe(400);
    });

    it('serves valid requests through the zod type provider', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/things/0b9f4c7e-8a39-4b53-9a4e-9d9a1c4f0a11',
        payload: { name: 'gala', seats: 2 },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ id: '0b9f4c7e-8a39-4b53-9a4e-9d9a1c4f0a11', name: 'gala' });
    });

    it('renders a DomainError with its status, code and extra fields', async () => {
      const res = await app.inject({ url: '/v1/things/taken' });
      expect(res.statusCode).toBe(409);
      expect(res.headers['content-type']).toBe(PROBLEM);
      expect(res.json()).toEqual({
        type: 'urn:happening:problem:BOOKING_SEATS_TAKEN',
        title: 'Conflict',
        status: 409,
        detail: 'Those seats are taken.',
        code: 'BOOKING_SEATS_TAKEN',
        seats: [3, 4],
      });
    });

    it('says when to try again in Retry-After for a 429 or 503 that says it in its body', async () => {
      for (const [thingId, status] of [
        ['busy', 503],
        ['limited', 429],
      ] as const) {
        const res = await app.inject({ url: `/v1/things/${thingId}` });
        expect(res.statusCode).toBe(status);
        expect(res.json()).toMatchObject({ code: 'TRY_LATER', retryAfterSeconds: 7 });
        expect(res.headers['retry-after'], thingId).toBe('7');
      }
      const refused = await app.inject({ url: '/v1/things/taken' });
      expect(refused.headers['retry-after']).toBeUndefined();
    });

    it('answers a transaction rolled back for a concurrent one 503 TRANSIENT_CONFLICT, to be sent again', async () => {
      const res = await app.inject({ url: '/v1/things/deadlocked' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ code: 'TRANSIENT_CONFLICT', retryAfterSeconds: 1 });
    });

    it('answers unknown routes with 404 NOT_FOUND', async () => {
      const res = await app.inject({ method: 'DELETE', url: '/v1/unknown?x=1' });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toBe(PROBLEM);
      expect(res.json()).toMatchObject({
        code: 'NOT_FOUND',
        detail: 'No route for DELETE /v1/unknown.',
      });
    });

    it('keeps fastify client errors at their status, a body that is not JSON as a validation failure', async () => {
      const url = '/v1/things/0b9f4c7e-8a39-4b53-9a4e-9d9a1c4f0a11';
      const tooLarge = await app.inject({
        method: 'POST',
        url,
        payload: { name: 'x'.repeat(2000), seats: 1 },
      });
      expect(tooLarge.statusCode).toBe(413);
      expect(tooLarge.json()).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });

      const badJson = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: '{"name":',
      });
      expect(badJson.statusCode).toBe(400);
      expect(badJson.json()).toMatchObject({
        status: 400,
        code: 'VALIDATION_FAILED',
        errors: [{ path: 'body', message: expect.stringMatching(/not valid JSON/) }],
      });
      const emptyJson = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: '',
      });
      expect(emptyJson.statusCode).toBe(400);
      // No body, as when no content type is sent: refused by the route's schema, which needs one.
      expect(emptyJson.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ path: 'body', message: expect.any(String) }],
      });

      const media = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/xml' },
        payload: '<thing/>',
      });
      expect(media.statusCode).toBe(415);
      expect(media.headers['content-type']).toBe(PROBLEM);
      expect(media.json()).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    });

    it('answers a path the router refuses as problem+json with the request id', async () => {
      const undecodable = await app.inject({ method: 'GET', url: '/v1/things/%E2%82' });
      expect(undecodable.statusCode).toBe(400);
      expect(undecodable.headers['content-type']).toBe(PROBLEM);
      expect(undecodable.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(undecodable.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ path: 'params', message: expect.any(String) }],
      });

      // A long id reaches the route's schema, which decides about it...
      const long = await app.inject({ method: 'POST', url: `/v1/things/${'x'.repeat(300)}` });
      expect(long.statusCode).toBe(400);
      expect(long.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: expect.arrayContaining([expect.objectContaining({ path: 'params.thingId' })]),
      });
      // ...and only one longer than the router takes is refused before it, as too long.
      const tooLong = await app.inject({ method: 'GET', url: `/v1/things/${'x'.repeat(1025)}` });
      expect(tooLong.statusCode).toBe(414);
      expect(tooLong.headers['content-type']).toBe(PROBLEM);
      expect(tooLong.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(tooLong.json()).toMatchObject({ status: 414, code: 'URI_TOO_LONG' });
    });

    it('hides unexpected errors behind a generic 500 and logs them with the request id', async () => {
      const res = await app.inject({ url: '/boom', headers: { 'x-request-id': 'boom-1' } });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({
        type: 'urn:happening:problem:INTERNAL',
        title: 'Internal Server Error',
        status: 500,
        detail: 'An unexpected error occurred.',
        code: 'INTERNAL',
      });
      expect(res.body).not.toContain('hunter2');
      expect(res.body).not.toContain('at ');
      const logged = lines.find((l) => l.requestId === 'boom-1' && l.level === 50);
      expect(logged).toMatchObject({ err: { message: 'password=hunter2 at db.internal:5432' } });
    });

    it('requires If-Match through ifMatchVersion', async () => {
      const missing = await app.inject({ method: 'PATCH', url: '/v1/versioned' });
      expect(missing.statusCode).toBe(428);
      expect(missing.json()).toMatchObject({ code: 'PRECONDITION_REQUIRED' });
      const given = await app.inject({
        method: 'PATCH',
        url: '/v1/versioned',
        headers: { 'if-match': '"4", W/"5"' },
      });
      expect(given.json()).toEqual({ expected: [4] });
    });
  });

  describe('health', () => {
    it('answers /healthz', async () => {
      const res = await app.inject({ url: '/healthz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
    });

    it('answers /readyz 200 when every check passes', async () => {
      dbReady = true;
      const res = await app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    });

    it('answers /readyz 503 naming the failed check, without its error message', async () => {
      dbReady = false;
      const res = await app.inject({ url: '/readyz' });
      dbReady = true;
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toBe(PROBLEM);
      expect(res.json()).toMatchObject({
        code: 'NOT_READY',
        failed: ['postgres'],
        checks: { postgres: 'failed', redis: 'ok' },
      });
      expect(res.body).not.toContain('10.0.0.5');
    });

    it('times out a hanging check', async () => {
      let aborted = false;
      const hanging = createApp({
        name: 'hanging',
        logger: captureLogs().logger,
        readinessTimeoutMs: 50,
        readinessChecks: {
          broker: (signal) =>
            new Promise(() => {
              signal.addEventListener('abort', () => {
                aborted = true;
              });
            }),
        },
      });
      const res = await hanging.inject({ url: '/readyz' });
      await hanging.close();
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ failed: ['broker'], checks: { broker: 'timeout' } });
      expect(aborted).toBe(true);
    });
  });

  describe('metrics', () => {
    it('exposes process metrics and a request-duration histogram by route pattern', async () => {
      await app.inject({ url: '/v1/things/abc' });
      await app.inject({ url: '/v1/things/taken' });
      const res = await app.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.body).toContain('process_cpu_user_seconds_total');
      expect(res.body).toMatch(
        /http_request_duration_seconds_count\{method="GET",route="\/v1\/things\/:thingId",status_code="200"\} \d+/,
      );
      expect(res.body).toMatch(
        /http_request_duration_seconds_count\{method="GET",route="\/v1\/things\/:thingId",status_code="409"\} \d+/,
      );
      expect(res.body).not.toContain('route="/v1/things/abc"');
      expect(
        await metricsRegistry.getSingleMetricAsString('http_request_duration_seconds'),
      ).toContain('route="unmatched"');
    });
  });
});

describe('createApp, for a request that is not well-formed HTTP', () => {
  let app: App;
  let port: number;
  beforeAll(async () => {
    app = createApp({ name: 'malformed-test', openapi: false });
    app.post('/v1/things', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  const sendRaw = (request: string) => sendRawTo(port, request);

  it.each([
    [
      'a Content-Length beside Transfer-Encoding',
      'POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'BAD_REQUEST',
    ],
    [
      'headers too large',
      `GET /v1/things HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
    ['not HTTP at all', 'HELLO\r\n\r\n', 400, 'BAD_REQUEST'],
  ])('answers %s with problem+json and a request id', async (_what, request, status, code) => {
    const res = await sendRaw(request);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(JSON.parse(res.body)).toMatchObject({ status, code });
  });
});
