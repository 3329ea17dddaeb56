import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/index.ts';
import { sendRaw } from './raw-http.ts';

const PROBLEM = 'application/problem+json; charset=utf-8';

/**
 * An app with a short request timeout, for the test (services keep the 30 s default), listening on
 * a port of its own; `setUp` adds its hooks and routes.
 */
function appWithShortTimeout(setUp: (app: App) => void) {
  const started = { app: undefined as unknown as App, port: 0 };
  beforeAll(async () => {
    started.app = createApp({
      name: 'timeout-test',
      logger: pino({ level: 'silent' }),
      requestTimeoutMs: 200,
    });
    setUp(started.app);
    await started.app.listen({ port: 0, host: '127.0.0.1' });
    started.port = (started.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    started.app.server.closeAllConnections();
    await started.app.close();
  });
  return started;
}

describe('createApp, for a request that does not arrive in time', () => {
  const started = appWithShortTimeout((app) => {
    app.post('/v1/things', async () => ({ ok: true }));
  });

  it.each([
    ['headers that never end', 'POST /v1/things HTTP/1.1\r\nHost: x\r\n'],
    [
      'a body shorter than its Content-Length',
      'POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"',
    ],
  ])(
    'answers %s with 408 problem+json and closes the connection',
    {
      timeout: 10_000,
    },
    async (_what, request) => {
      const res = await sendRaw(started.port, request);
      expect(res.status).toBe(408);
      expect(res.headers['content-type']).toBe(PROBLEM);
      expect(JSON.parse(res.body)).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    },
  );
});

describe('createApp, for a request answered before its body arrived', () => {
  const started = appWithShortTimeout((app) => {
    // A hook answering before the body is read, as an authentication or a rate limit does.
    app.addHook('onRequest', async (_request, reply) => {
      await reply.code(401).send({ refused: true });
    });
    app.post('/v1/things', async () => ({ ok: true }));
  });

  it('gets no 408 written after its answer once the rest of the body is late', async () => {
    const { text } = await sendRaw(
      started.port,
      'POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"',
    );
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    expect(text).not.toContain('408');
  });
});
