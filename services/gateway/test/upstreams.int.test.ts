import { randomUUID } from 'node:crypto';
import type { App } from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELAY_HEADER, STATUS_HEADER } from './echo-upstream.ts';
import { type Harness, startHarness } from './harness.ts';

const PROBLEM = /^application\/problem\+json/;

describe('gateway with failing upstreams', () => {
  let h: Harness;
  let authorization: string;

  beforeAll(async () => {
    h = await startHarness();
    authorization = `Bearer ${await h.issuer.token({ sub: randomUUID() })}`;
  });
  afterAll(() => h.stop());

  it("answers 503 AUTH_UNAVAILABLE with Retry-After while the issuer's key set is unreachable", async () => {
    const app = await h.gateway({ OIDC_JWKS_URI: `${h.deadUrl}/certs` });
    const res = await app.inject({ url: '/v1/events', headers: { authorization } });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'AUTH_UNAVAILABLE', retryAfterSeconds: 2 });
    expect(res.headers['retry-after']).toBe('2');
  });

  describe('an upstream that is down', () => {
    let app: App;
    beforeAll(async () => {
      app = await h.gateway({ BOOKING_URL: h.deadUrl, UPSTREAM_TIMEOUT_MS: '30000' });
    });

    it.each([
      ['GET', `/v1/events/${randomUUID()}/availability`],
      ['POST', `/v1/events/${randomUUID()}/bookings`],
    ])('answers %s %s with 503 UPSTREAM_UNAVAILABLE at once', async (method, url) => {
      // A 30 s upstream timeout: a gateway that waited instead of failing fast would answer 504.
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { authorization },
        ...(method === 'POST' ? { payload: { seats: 1 } } : {}),
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.json()).toMatchObject({
        status: 503,
        code: 'UPSTREAM_UNAVAILABLE',
        upstream: 'booking',
        retryAfterSeconds: 2,
      });
      // Nothing reached the upstream: the client may send the same request again, soon.
      expect(res.headers['retry-after']).toBe('2');
    });

    it('keeps serving the other upstreams', async () => {
      const res = await app.inject({ url: '/v1/events', headers: { authorization } });
      expect(res.statusCode).toBe(200);
    });

    it('stays ready, so its replicas keep serving the other upstreams', async () => {
      const res = await app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(200);
    });

    it('still answers /healthz (its own liveness only)', async () => {
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    });
  });

  describe('a slow upstream', () => {
    let app: App;
    beforeAll(async () => {
      // Room for a fresh connection and a delayed answer on a loaded machine.
      app = await h.gateway({ UPSTREAM_TIMEOUT_MS: '1500' });
    });

    it('answers 504 UPSTREAM_TIMEOUT once the timeout passes', async () => {
      const res = await app.inject({
        url: '/v1/events',
        headers: { authorization, [DELAY_HEADER]: '3000' },
      });
      expect(res.statusCode).toBe(504);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.json()).toMatchObject({ code: 'UPSTREAM_TIMEOUT', upstream: 'catalog' });
    });

    it('forwards an answer that comes within the timeout', async () => {
      const res = await app.inject({
        url: '/v1/events',
        headers: { authorization, [DELAY_HEADER]: '50' },
      });
      expect(res.statusCode).toBe(200);
    });
  });

  describe("an upstream's own 503", () => {
    it('reaches the client once, with its Retry-After, without the gateway retrying', async () => {
      const app = await h.gateway();
      const before = h.upstreams.booking.received.length;
      const res = await app.inject({
        url: `/v1/events/${randomUUID()}/seats`,
        headers: { authorization, [STATUS_HEADER]: '503' },
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(h.upstreams.booking.received.length).toBe(before + 1);
    });
  });

  describe('all upstreams up', () => {
    it('is ready', async () => {
      const app = await h.gateway();
      const res = await app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ready', checks: {} });
    });
  });
});
