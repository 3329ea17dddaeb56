import { randomUUID } from 'node:crypto';
import { eventually } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

describe('first contact: identity-org meets every caller', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());

  const mirrorCallsOf = (authorization: string) =>
    h.upstreams['identity-org'].received.filter(
      (r) => r.method === 'GET' && r.url === '/v1/me' && r.headers.authorization === authorization,
    );

  it("asks identity-org for GET /v1/me with the caller's token once, when they first call another service", async () => {
    const app = await h.gateway();
    const authorization = `Bearer ${await h.issuer.token({ sub: randomUUID() })}`;
    const eventId = randomUUID();
    const booked = await app.inject({
      method: 'POST',
      url: `/v1/events/${eventId}/bookings`,
      headers: { authorization },
      payload: { seats: 1 },
    });
    expect(booked.statusCode).toBe(201);
    await eventually(() => mirrorCallsOf(authorization).length === 1, {
      what: 'identity-org asked to mirror the caller',
    });
    // Later calls, here or to other services, do not ask again.
    for (const url of [`/v1/events/${eventId}/availability`, '/v1/me/notifications']) {
      expect((await app.inject({ url, headers: { authorization } })).statusCode).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mirrorCallsOf(authorization)).toHaveLength(1);
  });

  it('leaves callers of identity-org to identity-org itself', async () => {
    const app = await h.gateway();
    const authorization = `Bearer ${await h.issuer.token({ sub: randomUUID() })}`;
    const res = await app.inject({ url: '/v1/me', headers: { authorization } });
    expect(res.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The caller's own request, and nothing more.
    expect(mirrorCallsOf(authorization)).toHaveLength(1);
  });

  it('never holds up the request it learns the caller from', async () => {
    // identity-org answers nothing at all: the booking is still forwarded and answered.
    const app = await h.gateway({ IDENTITY_ORG_URL: h.deadUrl });
    const authorization = `Bearer ${await h.issuer.token({ sub: randomUUID() })}`;
    const res = await app.inject({
      url: `/v1/events/${randomUUID()}/availability`,
      headers: { authorization },
    });
    expect(res.statusCode).toBe(200);
  });
});
