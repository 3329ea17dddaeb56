import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
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

  it('leaves callers of identity-org to identity-org itself, and does not introduce them later', async () => {
    const app = await h.gateway();
    const authorization = `Bearer ${await h.issuer.token({ sub: randomUUID() })}`;
    const res = await app.inject({ url: '/v1/me', headers: { authorization } });
    expect(res.statusCode).toBe(200);
    // identity-org served them, so mirrored them: their first booking asks it nothing more.
    const availability = await app.inject({
      url: `/v1/events/${randomUUID()}/availability`,
      headers: { authorization },
    });
    expect(availability.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The caller's own request, and nothing more.
    expect(mirrorCallsOf(authorization)).toHaveLength(1);
  });

  it('never holds up the request it learns the caller from', async () => {
    // identity-org takes the introduction and never answers it.
    const held: IncomingMessage[] = [];
    const silent = createServer((request) => held.push(request));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const app = await h.gateway({ IDENTITY_ORG_URL: `http://127.0.0.1:${port}` });
      const authorization = `Bearer ${await h.issuer.token({ sub: randomUUID() })}`;
      const forwarded = app.inject({
        url: `/v1/events/${randomUUID()}/availability`,
        headers: { authorization },
      });
      await eventually(() => held.length === 1, { what: 'the introduction to reach identity-org' });
      // Answered while the introduction is still unanswered.
      expect((await forwarded).statusCode).toBe(200);
      expect(held[0]?.complete && !held[0].socket.destroyed).toBe(true);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
