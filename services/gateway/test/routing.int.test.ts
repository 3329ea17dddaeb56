import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { App } from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWER_HEADERS_HEADER, type Echo } from './echo-upstream.ts';
import { type Harness, startHarness } from './harness.ts';

const ID = randomUUID();

describe('gateway routing', () => {
  let h: Harness;
  let app: App;
  let token: string;

  beforeAll(async () => {
    h = await startHarness();
    app = await h.gateway();
    token = await h.issuer.token({ sub: randomUUID() });
  });
  afterAll(() => h.stop());

  const send = (method: string, url: string, body?: unknown) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { payload: body as object }),
    });

  it.each([
    ['POST', '/v1/signup', 'identity-org'],
    ['GET', '/v1/me', 'identity-org'],
    ['GET', '/v1/me/memberships?limit=5&cursor=abc', 'identity-org'],
    ['GET', '/v1/orgs', 'identity-org'],
    ['GET', `/v1/orgs/${ID}`, 'identity-org'],
    ['GET', `/v1/orgs/${ID}/members`, 'identity-org'],
    ['POST', `/v1/orgs/${ID}/invites`, 'identity-org'],
    ['GET', `/v1/orgs/${ID}/audit`, 'identity-org'],
    ['POST', '/v1/invites/accept', 'identity-org'],
    ['GET', '/v1/events?limit=5&q=jazz', 'catalog'],
    ['PATCH', `/v1/events/${ID}`, 'catalog'],
    ['POST', `/v1/events/${ID}/publish`, 'catalog'],
    ['POST', `/v1/events/${ID}/cancel`, 'catalog'],
    ['POST', `/v1/orgs/${ID}/events`, 'catalog'],
    ['POST', `/v1/events/${ID}/bookings`, 'booking'],
    ['GET', `/v1/events/${ID}/availability`, 'booking'],
    ['GET', `/v1/events/${ID}/seats`, 'booking'],
    ['POST', `/v1/events/${ID}/reconcile`, 'booking'],
    ['POST', `/v1/bookings/${ID}/cancel`, 'booking'],
    ['GET', '/v1/me/bookings?cursor=abc', 'booking'],
    ['GET', '/v1/me/notifications', 'notification'],
    ['PUT', '/v1/me/notification-preferences', 'notification'],
    ['POST', `/v1/notifications/${ID}/retry`, 'notification'],
  ])('%s %s reaches %s with path and query intact', async (method, url, upstream) => {
    const res = await send(method, url);
    expect(res.statusCode).toBe(method === 'POST' ? 201 : 200);
    const echo = res.json<Echo>();
    expect(echo).toMatchObject({ upstream, method, url });
    expect(echo.headers.authorization).toBe(`Bearer ${token}`);
  });

  it.each([
    [`/v1/orgs/${ID}/members/%00`, 'params.*'],
    ['/v1/events?q=%00', 'query.q'],
  ])('refuses a NUL character in %s itself, asking no upstream', async (url, path) => {
    const res = await send('GET', url);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path }] });
    expect(res.json()).not.toHaveProperty('upstream');
  });

  it('forwards the body byte for byte with its content type', async () => {
    const raw = '{"seats": 2,   "note":"ünïcode"}';
    const res = await app.inject({
      method: 'POST',
      url: `/v1/events/${ID}/bookings`,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json; charset=utf-8',
        'idempotency-key': 'k-1',
      },
      payload: raw,
    });
    const echo = res.json<Echo>();
    expect(echo.body).toBe(raw);
    expect(echo.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(echo.headers['idempotency-key']).toBe('k-1');
  });

  it('forwards a request whose client sent hop-by-hop headers, without them', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/v1/events/${ID}/bookings`,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        // Older curl sends this for bodies over 1 KB; the gateway's server already answered it.
        expect: '100-continue',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
      },
      payload: JSON.stringify({ seats: 1, note: 'x'.repeat(2_000) }),
    });
    expect(res.statusCode).toBe(201);
    const echo = res.json<Echo>();
    for (const header of ['expect', 'keep-alive', 'proxy-connection'])
      expect(echo.headers[header]).toBeUndefined();
  });

  it('passes the upstream status, headers and body back', async () => {
    const res = await send('POST', '/v1/signup', { name: 'x' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('answers without the hop-by-hop headers of the upstream, such as a draining one sends', async () => {
    // Over a real connection: the gateway's server would act on them (close, time out).
    const gateway = await h.gateway();
    const origin = await gateway.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${origin}/v1/events`, {
      headers: {
        authorization: `Bearer ${token}`,
        [ANSWER_HEADERS_HEADER]: JSON.stringify({
          connection: 'close, x-upstream-hop',
          'keep-alive': 'timeout=1',
          'x-upstream-hop': 'gateway to catalog only',
          'x-end-to-end': 'kept',
        }),
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('keep-alive');
    expect(res.headers.get('keep-alive')).not.toBe('timeout=1');
    expect(res.headers.get('x-upstream-hop')).toBeNull();
    expect(res.headers.get('x-end-to-end')).toBe('kept');
  });

  describe('over a real connection, as a client may send it', () => {
    let origin: URL;
    beforeAll(async () => {
      const gateway = await h.gateway();
      origin = new URL(await gateway.listen({ port: 0, host: '127.0.0.1' }));
    });

    /** Sends `target` as written (fetch and inject would normalise it) and reads the answer. */
    const sendRaw = (target: string) =>
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const request = http.get(
          {
            host: origin.hostname,
            port: origin.port,
            path: target,
            headers: { authorization: `Bearer ${token}` },
          },
          (response) => {
            let text = '';
            response.setEncoding('utf8').on('data', (chunk: string) => {
              text += chunk;
            });
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }),
            );
          },
        );
        request.on('error', reject);
      });

    it.each([
      '/v1/bookings/x\\..\\..\\..\\metrics',
      '/v1/orgs/x\\..\\..\\..\\readyz',
      '/v1/events/abc#/bookings',
    ])('answers %s itself with 404, asking no upstream', async (target) => {
      const res = await sendRaw(target);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'NOT_FOUND' });
      expect(res.body).not.toHaveProperty('upstream');
    });

    it.each([
      '/v1/events?q=100%',
      '/v1/events?q=%zz',
      '/v1/events?next=../x&back=a/..',
      '/v1/events?next=%2E%2E%2Fx',
    ])('forwards the query of %s as it came', async (target) => {
      const res = await sendRaw(target);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ upstream: 'catalog', url: target });
    });
  });

  it('assigns an x-request-id, answers with it and forwards it', async () => {
    const res = await send('GET', '/v1/events');
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json<Echo>().headers['x-request-id']).toBe(id);
  });

  describe("a client's own x-request-id", () => {
    let origin: URL;
    beforeAll(async () => {
      const gateway = await h.gateway();
      origin = new URL(await gateway.listen({ port: 0, host: '127.0.0.1' }));
    });

    // Over a real connection, as a client would send them.
    const sendWith = async (headers: Record<string, string>, path = '/v1/events') => {
      const res = await fetch(new URL(path, origin), {
        headers: { authorization: `Bearer ${token}`, ...headers },
      });
      return { id: res.headers.get('x-request-id'), status: res.status, body: await res.json() };
    };

    it('is never the request id: the gateway assigns its own, answers with it and forwards it', async () => {
      const first = await sendWith({ 'x-request-id': 'client-42' });
      const second = await sendWith({ 'x-request-id': 'client-42' });
      for (const { id, body } of [first, second]) {
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect((body as Echo).headers['x-request-id']).toBe(id);
      }
      // Two requests, or two actors, never share an id through the same client value.
      expect(first.id).not.toBe(second.id);
    });

    it('travels upstream as x-client-request-id when well-formed', async () => {
      const { body } = await sendWith({ 'x-request-id': 'client-42' });
      expect((body as Echo).headers['x-client-request-id']).toBe('client-42');
    });

    it.each([
      ['too long', 'x'.repeat(129)],
      ['with a space', 'client 42'],
      ['non-ASCII', 'clïent-42'],
    ])('is dropped when %s', async (_label, value) => {
      const { id, body } = await sendWith({ 'x-request-id': value });
      expect(id).not.toBe(value);
      expect((body as Echo).headers['x-client-request-id']).toBeUndefined();
    });

    it('cannot be smuggled as x-client-request-id', async () => {
      const { body } = await sendWith({ 'x-client-request-id': 'forged' });
      expect((body as Echo).headers['x-client-request-id']).toBeUndefined();
    });

    it("is not the id of the gateway's own answers either", async () => {
      const res = await fetch(new URL('/v1/events', origin), {
        headers: { 'x-request-id': 'client-42' },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  it('tells the upstream who the client is', async () => {
    const res = await app.inject({
      url: '/v1/events',
      headers: { authorization: `Bearer ${token}` },
      remoteAddress: '203.0.113.9',
    });
    expect(res.json<Echo>().headers['x-forwarded-for']).toBe('203.0.113.9');
  });

  it('names the client the trusted proxies name, dropping what the client wrote before them', async () => {
    const behindProxy = await h.gateway({ TRUSTED_PROXY_HOPS: '1' });
    const res = await behindProxy.inject({
      url: '/v1/events',
      headers: {
        authorization: `Bearer ${token}`,
        // The client sent `X-Forwarded-For: 6.6.6.6`; the proxy appended the address it heard from.
        'x-forwarded-for': '6.6.6.6, 203.0.113.9',
      },
      remoteAddress: '198.51.100.7',
    });
    expect(res.json<Echo>().headers['x-forwarded-for']).toBe('203.0.113.9');
  });

  it('names the socket peer, whatever X-Forwarded-For a client sends with no trusted proxy', async () => {
    const res = await app.inject({
      url: '/v1/events',
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '6.6.6.6' },
      remoteAddress: '203.0.113.9',
    });
    expect(res.json<Echo>().headers['x-forwarded-for']).toBe('203.0.113.9');
  });

  it('passes on none of the origin and identity headers a client forges', async () => {
    // Over a real connection, as a client would send them.
    const gateway = await h.gateway();
    const origin = new URL(await gateway.listen({ port: 0, host: '127.0.0.1' }));
    const forged: Record<string, string> = {
      forwarded: 'for=6.6.6.6;proto=https;host=evil.example',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-port': '6666',
      'x-forwarded-prefix': '/forged',
      'x-real-ip': '6.6.6.6',
      'x-original-url': '/forged',
      'x-rewrite-url': '/forged',
      'x-user-id': 'forged',
      'X-User-Roles': 'forged',
      'x-org-id': 'forged',
      'x-org-role': 'forged',
      'x-tenant-id': 'forged',
      'x-happening-subject': 'forged',
    };
    const echo = await new Promise<Echo>((resolve, reject) => {
      const request = http.get(
        {
          host: origin.hostname,
          port: origin.port,
          path: '/v1/events',
          headers: { authorization: `Bearer ${token}`, ...forged },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => resolve(JSON.parse(text)));
        },
      );
      request.on('error', reject);
    });
    expect(echo.upstream).toBe('catalog');
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echo.headers['x-forwarded-proto']).toBe('http');
    expect(echo.headers['x-forwarded-host']).toBe(origin.host);
    for (const name of Object.keys(forged).map((n) => n.toLowerCase())) {
      if (!['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'].includes(name))
        expect(echo.headers[name], name).toBeUndefined();
    }
    expect(JSON.stringify(echo.headers)).not.toMatch(/6\.6\.6\.6|evil\.example|forged|6666/);
  });

  it('answers 404 problem+json for a /v1 path outside the map, asking no upstream', async () => {
    const before = Object.values(h.upstreams).reduce((n, u) => n + u.received.length, 0);
    const res = await send('GET', '/v1/unknown/thing');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
    const after = Object.values(h.upstreams).reduce((n, u) => n + u.received.length, 0);
    expect(after).toBe(before);
  });

  it('answers a path that is not valid percent-encoding 400 problem+json itself, asking no upstream', async () => {
    const before = Object.values(h.upstreams).reduce((n, u) => n + u.received.length, 0);
    const res = await send('GET', '/v1/events/%E2%82');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'params' }] });
    const after = Object.values(h.upstreams).reduce((n, u) => n + u.received.length, 0);
    expect(after).toBe(before);
  });
});
