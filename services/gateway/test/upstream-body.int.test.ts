import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type App, createLogger } from '@happening/service-kit';
import { deferred, eventually } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

const PROBLEM = /^application\/problem\+json/;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How the test upstream fails its body, by the last path segment of the request. */
type Failure = 'reset' | 'stall' | 'midway';

/**
 * A real upstream that sends a 201 with the headers of a created resource (flushed at once), then
 * fails its body: `reset` cuts the connection before any byte of it, `stall` sends none until the
 * gateway's timeout, `midway` cuts it after its first bytes.
 */
async function startFailingUpstream() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const failure = req.url?.split('/').pop() as Failure;
      res.writeHead(201, {
        'content-type': 'application/json',
        'content-length': '100',
        etag: '"7"',
        location: '/v1/events/abc',
        'cache-control': 'public, max-age=3600',
      });
      res.flushHeaders();
      if (failure === 'reset') setTimeout(() => res.socket?.destroy(), 50);
      if (failure === 'midway') {
        res.write('{"id":"abc",');
        setTimeout(() => res.socket?.destroy(), 50);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('an upstream whose body fails after its status and headers', () => {
  let h: Harness;
  let upstream: Awaited<ReturnType<typeof startFailingUpstream>>;
  let app: App;
  let authorization: string;

  beforeAll(async () => {
    [h, upstream] = await Promise.all([startHarness(), startFailingUpstream()]);
    // Room for a fresh connection on a loaded machine; the stalled body outlasts it.
    app = await h.gateway({ CATALOG_URL: upstream.url, UPSTREAM_TIMEOUT_MS: '1500' });
    authorization = `Bearer ${await h.issuer.token({ sub: randomUUID() })}`;
  });
  afterAll(async () => {
    await h?.stop();
    await upstream?.close();
  });

  const post = (failure: Failure) =>
    app.inject({
      method: 'POST',
      url: `/v1/events/${failure}`,
      headers: { authorization, 'content-type': 'application/json' },
      payload: '{}',
    });

  it.each([
    ['cut before its first byte', 'reset'],
    ['not sent within the timeout', 'stall'],
  ] as const)('answers 502 BAD_GATEWAY without the upstream headers when its body is %s', async (_label, failure) => {
    const res = await post(failure);
    expect(res.statusCode, res.body).toBe(502);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.json()).toMatchObject({ status: 502, code: 'BAD_GATEWAY', upstream: 'catalog' });
    // Not the created resource's: a client must not take them for its answer, nor cache them.
    expect(res.headers.etag).toBeUndefined();
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['cache-control']).toBeUndefined();
    // The request reached the upstream: not one to send again as if nothing had been done.
    expect(res.headers['retry-after']).toBeUndefined();
    // The gateway's own headers stay.
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('cuts the connection when the body fails after its first bytes went out', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const outcome = await new Promise<{ status?: number; error?: string; received: string }>(
      (resolve) => {
        let received = '';
        const req = http.request(
          {
            port,
            host: '127.0.0.1',
            method: 'POST',
            path: '/v1/events/midway',
            headers: { authorization, 'content-type': 'application/json' },
          },
          (res) => {
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              received += chunk;
            });
            res.on('error', (error) =>
              resolve({ status: res.statusCode, error: error.message, received }),
            );
            res.on('end', () => resolve({ status: res.statusCode, received }));
          },
        );
        req.on('error', (error) => resolve({ error: error.message, received }));
        req.end('{}');
      },
    );
    expect(outcome.status).toBe(201);
    expect(outcome.received).toBe('{"id":"abc",');
    expect(outcome.error).toEqual(expect.any(String));
  });
});

describe('a client that goes away while the upstream body has not started', () => {
  const BODY_FAILED = 'upstream body failed before its first byte';
  const CLIENT_GONE = 'client gone before the upstream body started';

  it('ends the upstream request at once, and neither answers nor logs a 502', async () => {
    // An upstream that sends its status and headers at once, and its body only after 10 s.
    const arrived = deferred();
    let upstreamClosed = false;
    const upstream = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      res.on('close', () => {
        upstreamClosed = true;
      });
      const late = setTimeout(() => res.end('late'), 10_000);
      res.on('close', () => clearTimeout(late));
      arrived.resolve();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const logged: Array<{ msg?: string; res?: { statusCode?: number }; status?: number }> = [];
    const logger = createLogger(
      { name: 'gateway-test', level: 'info' },
      { write: (line: string) => void logged.push(JSON.parse(line)) },
    );
    const h = await startHarness();
    const timeoutMs = 3000;
    try {
      const app = await h.gateway(
        { CATALOG_URL: upstreamUrl, UPSTREAM_TIMEOUT_MS: String(timeoutMs) },
        logger,
      );
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const authorization = `Bearer ${await h.issuer.token({ sub: randomUUID() })}`;
      let answered: number | undefined;
      const req = http.get(
        { port, host: '127.0.0.1', path: '/v1/events/slow', headers: { authorization } },
        (res) => {
          answered = res.statusCode;
        },
      );
      req.on('error', () => {});
      await arrived.promise;
      // The gateway has the upstream's status and headers, and waits for its body's first byte.
      await pause(300);
      const abortedAt = Date.now();
      req.destroy();

      await eventually(() => upstreamClosed, {
        timeoutMs: timeoutMs + 1500,
        intervalMs: 20,
        what: 'the upstream response to close',
      });
      // Ended for the client's going away, not by the upstream timeout (3 s) later.
      expect(logged.filter((entry) => entry.msg === CLIENT_GONE)).toHaveLength(1);
      // Past the upstream timeout: nothing was answered, nor logged as the upstream's failure.
      await pause(timeoutMs + 500 - (Date.now() - abortedAt));
      expect(answered).toBeUndefined();
      expect(logged.filter((entry) => entry.msg === BODY_FAILED)).toEqual([]);
      expect(
        logged.filter((entry) => entry.res?.statusCode === 502 || entry.status === 502),
      ).toEqual([]);
    } finally {
      await h.stop();
      upstream.closeAllConnections();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});
