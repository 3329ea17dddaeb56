import { randomUUID } from 'node:crypto';
import type { App } from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RATE_LIMIT_PREFIX } from '../src/routes/proxy.routes.ts';
import { ANSWER_HEADERS_HEADER } from './echo-upstream.ts';
import { type Harness, startHarness } from './harness.ts';

const PROBLEM = /^application\/problem\+json/;

describe('gateway protection', () => {
  let h: Harness;
  const received = () => Object.values(h.upstreams).reduce((n, u) => n + u.received.length, 0);

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());

  describe('authentication', () => {
    let app: App;
    beforeAll(async () => {
      app = await h.gateway();
    });

    it('answers 401 without a token, before any upstream is asked', async () => {
      const before = received();
      const res = await app.inject({ method: 'POST', url: '/v1/signup', payload: { a: 1 } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="happening"');
      expect(res.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      expect(received()).toBe(before);
    });

    it.each([
      ['garbage', async () => 'not-a-jwt'],
      ['expired', async () => h.issuer.token({ expiresIn: -60 })],
      ['wrong audience', async () => h.issuer.token({ audience: 'someone-else' })],
    ])('answers 401 for a %s token, before any upstream is asked', async (_kind, tokenOf) => {
      const before = received();
      const res = await app.inject({
        url: '/v1/events',
        headers: { authorization: `Bearer ${await tokenOf()}` },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(received()).toBe(before);
    });

    it('leaves health, metrics and the API reference open', async () => {
      for (const url of ['/healthz', '/metrics', '/docs/']) {
        expect((await app.inject({ url })).statusCode, url).toBe(200);
      }
    });
  });

  describe('CORS', () => {
    let app: App;
    beforeAll(async () => {
      app = await h.gateway({ CORS_ORIGINS: 'https://app.example, https://admin.example' });
    });

    it('answers a preflight from an allowed origin without a token', async () => {
      const res = await app.inject({
        method: 'OPTIONS',
        url: '/v1/events',
        headers: {
          origin: 'https://admin.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, idempotency-key',
        },
      });
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('https://admin.example');
      expect(res.headers['access-control-allow-methods']).toContain('POST');
      expect(res.headers['access-control-allow-headers']).toContain('idempotency-key');
    });

    it('answers an OPTIONS that names no method as a preflight, not with a text/plain 400', async () => {
      const res = await app.inject({
        method: 'OPTIONS',
        url: '/v1/events',
        headers: { origin: 'https://app.example' },
      });
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(res.headers['x-request-id']).toBeDefined();
    });

    it('grants nothing to other origins', async () => {
      const res = await app.inject({
        method: 'OPTIONS',
        url: '/v1/events',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });

    it("keeps Vary: Origin beside an upstream's own Vary", async () => {
      const res = await app.inject({
        url: '/v1/events',
        headers: {
          origin: 'https://app.example',
          authorization: `Bearer ${await h.issuer.token()}`,
          [ANSWER_HEADERS_HEADER]: JSON.stringify({ vary: 'Accept-Encoding, origin' }),
        },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(String(res.headers.vary).split(', ').sort()).toEqual(['Accept-Encoding', 'Origin']);
    });

    it('marks real answers for allowed origins and exposes the request id', async () => {
      const res = await app.inject({
        url: '/v1/events',
        headers: {
          origin: 'https://app.example',
          authorization: `Bearer ${await h.issuer.token()}`,
        },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(res.headers['access-control-expose-headers']).toContain('x-request-id');
    });
  });

  describe('rate limits', () => {
    let app: App;
    beforeAll(async () => {
      app = await h.gateway({ RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_PER_IP_PER_MINUTE: '5' });
    });

    const call = (remoteAddress: string, token?: string) =>
      app.inject({
        url: '/v1/events',
        remoteAddress,
        ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      });

    it('limits one token subject, whichever IP it comes from, with 429 and Retry-After', async () => {
      const sub = randomUUID();
      const token = await h.issuer.token({ sub });
      for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
        expect((await call(ip, token)).statusCode).toBe(200);
      }
      const before = received();
      const res = await call('198.51.100.4', token);
      expect(res.statusCode).toBe(429);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(received()).toBe(before);

      // Another subject is not affected.
      expect((await call('198.51.100.5', await h.issuer.token())).statusCode).toBe(200);
      // The counter lives in Redis under the gateway's own prefix.
      expect(await h.redis.get(`${RATE_LIMIT_PREFIX}sub:${sub}`)).toBe('4');
    });

    it('limits one IP across subjects and anonymous calls', async () => {
      const ip = '192.0.2.77';
      for (let i = 0; i < 3; i++) {
        expect((await call(ip, await h.issuer.token())).statusCode).toBe(200);
      }
      expect((await call(ip)).statusCode).toBe(401);
      expect((await call(ip)).statusCode).toBe(401);
      const res = await call(ip, await h.issuer.token());
      expect(res.statusCode).toBe(429);
      expect(res.json()).toMatchObject({ code: 'RATE_LIMITED' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      // Anonymous floods are refused too, before the token is even looked at.
      expect((await call(ip)).statusCode).toBe(429);
      expect(await h.redis.get(`${RATE_LIMIT_PREFIX}ip:${ip}`)).toBe('7');
    });

    it('limits an IPv6 client by its /64, whichever of its addresses it calls from', async () => {
      const prefix = '2001:db8:77:1';
      for (let i = 1; i <= 5; i++) expect((await call(`${prefix}::${i}`)).statusCode).toBe(401);
      expect((await call(`${prefix}:ffff::6`)).statusCode).toBe(429);
      // Its neighbour's /64 is another client.
      expect((await call('2001:db8:77:2::1')).statusCode).toBe(401);
      expect(await h.redis.get(`${RATE_LIMIT_PREFIX}ip:${prefix}::/64`)).toBe('6');
    });
  });

  describe('body size', () => {
    let app: App;
    beforeAll(async () => {
      app = await h.gateway({ BODY_LIMIT_BYTES: '1024' });
    });

    it('answers 413 problem+json for a larger body and forwards one within the limit', async () => {
      const authorization = `Bearer ${await h.issuer.token()}`;
      const before = received();
      const big = await app.inject({
        method: 'POST',
        url: '/v1/signup',
        headers: { authorization, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'x'.repeat(2000) }),
      });
      expect(big.statusCode).toBe(413);
      expect(big.headers['content-type']).toMatch(PROBLEM);
      expect(big.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect(received()).toBe(before);

      const small = await app.inject({
        method: 'POST',
        url: '/v1/signup',
        headers: { authorization, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'x'.repeat(900) }),
      });
      expect(small.statusCode).toBe(201);
    });
  });
});
