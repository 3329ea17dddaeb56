import type { App, OpenApiDocument } from '@happening/service-kit';
import { eventually } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAMS, type Upstream } from '../src/route-table.ts';
import { type Harness, startHarness } from './harness.ts';

describe('gateway OpenAPI', () => {
  let h: Harness;
  let app: App;

  beforeAll(async () => {
    h = await startHarness({
      'identity-org': {
        '/v1/me': ['get'],
        '/v1/me/memberships': ['get'],
        '/v1/orgs/{orgId}/members': ['get', 'post'],
      },
      catalog: { '/v1/events': ['get'], '/v1/orgs/{orgId}/events': ['post'] },
      booking: {
        '/v1/events/{eventId}/bookings': ['post'],
        '/v1/me/bookings': ['get'],
        // Routed to catalog by the map: never reachable on booking through the gateway.
        '/v1/events/{eventId}': ['delete'],
      },
      notification: { '/v1/me/notification-preferences': ['get', 'put'] },
    });
    app = await h.gateway();
  });
  afterAll(() => h.stop());

  it('serves the merged document of every upstream without a token', async () => {
    const res = await app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<OpenApiDocument>();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Happening API');
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual([
      '/v1/events',
      '/v1/events/{eventId}/bookings',
      '/v1/me',
      '/v1/me/bookings',
      '/v1/me/memberships',
      '/v1/me/notification-preferences',
      '/v1/orgs/{orgId}/events',
      '/v1/orgs/{orgId}/members',
    ]);
    expect(Object.keys(doc.paths?.['/v1/orgs/{orgId}/members'] ?? {})).toEqual(['get', 'post']);
    expect(doc.paths?.['/v1/me/bookings']?.get?.tags).toEqual(['booking']);
    expect(Object.keys(doc.components?.schemas ?? {}).sort()).toEqual([
      'Problem',
      'bookingThing',
      'catalogThing',
      'identity-orgThing',
      'notificationThing',
    ]);
    expect(doc.components?.securitySchemes?.bearerAuth).toBeDefined();
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc).not.toHaveProperty('x-unavailable');
  });

  it('merges what it can while an upstream is down, and says which', async () => {
    const partial = await h.gateway({ NOTIFICATION_URL: h.deadUrl });
    const res = await partial.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<OpenApiDocument & { 'x-unavailable': string[] }>();
    expect(doc['x-unavailable']).toEqual(['notification']);
    expect(doc.paths?.['/v1/me']).toBeDefined();
    expect(doc.paths?.['/v1/me/notification-preferences']).toBeUndefined();
  });

  /** How many times each upstream was asked for its document so far. */
  const documentRequests = () =>
    Object.fromEntries(UPSTREAMS.map((u) => [u, h.upstreams[u].openApi.requests])) as Record<
      Upstream,
      number
    >;
  const askedSince = (before: Record<Upstream, number>) =>
    Object.fromEntries(UPSTREAMS.map((u) => [u, h.upstreams[u].openApi.requests - before[u]]));

  it('asks each upstream once for concurrent requests, however many', async () => {
    const fresh = await h.gateway();
    const before = documentRequests();
    for (const u of UPSTREAMS) h.upstreams[u].openApi.delayMs = 200;
    try {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => fresh.inject({ url: '/openapi.json' })),
      );
      for (const res of answers) {
        expect(res.statusCode).toBe(200);
        expect(res.json()).not.toHaveProperty('x-unavailable');
      }
    } finally {
      for (const u of UPSTREAMS) h.upstreams[u].openApi.delayMs = 0;
    }
    expect(askedSince(before)).toEqual(Object.fromEntries(UPSTREAMS.map((u) => [u, 1])));
    // Kept: the next request asks no one.
    expect((await fresh.inject({ url: '/openapi.json' })).statusCode).toBe(200);
    expect(askedSince(before)).toEqual(Object.fromEntries(UPSTREAMS.map((u) => [u, 1])));
  });

  it('keeps what it could merge for 5 seconds while an upstream is down, then asks again', async () => {
    const partial = await h.gateway({ NOTIFICATION_URL: h.deadUrl });
    const live = UPSTREAMS.filter((u) => u !== 'notification');
    const once = Object.fromEntries(live.map((u) => [u, 1]));
    const before = documentRequests();
    const start = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => partial.inject({ url: '/openapi.json' })),
    );
    for (const res of answers) {
      expect(res.statusCode).toBe(200);
      expect(res.json()['x-unavailable']).toEqual(['notification']);
    }
    for (let i = 0; i < 5; i++) {
      const res = await partial.inject({ url: '/openapi.json' });
      expect(res.json()['x-unavailable']).toEqual(['notification']);
    }
    expect(askedSince(before)).toMatchObject(once);

    await eventually(
      async () => {
        await partial.inject({ url: '/openapi.json' });
        return h.upstreams.catalog.openApi.requests - before.catalog > 1;
      },
      { intervalMs: 250, what: 'the partial document to be fetched again' },
    );
    expect(Date.now() - start).toBeGreaterThanOrEqual(5_000);
    expect(askedSince(before)).toMatchObject(Object.fromEntries(live.map((u) => [u, 2])));
  });

  it('serves an interactive reference at /docs reading /openapi.json', async () => {
    const redirect = await app.inject({ url: '/docs' });
    expect([200, 301, 302]).toContain(redirect.statusCode);
    const res = await app.inject({ url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('/openapi.json');
    const script = res.body.match(/src="([^"]*scalar[^"]*\.js)"/)?.[1];
    expect(script).toBeDefined();
    const js = await app.inject({ url: new URL(script ?? '', 'http://gateway/docs/').pathname });
    expect(js.statusCode).toBe(200);
  });
});
