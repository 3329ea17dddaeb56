import { randomUUID } from 'node:crypto';
import { buildEvent, type EventData, type EventType } from '@happening/contracts';
import { withFailingWrites } from '@happening/db/testing';
import { type Broker, connectBroker } from '@happening/messaging';
import {
  connectionAclRules,
  eventually,
  type Infra,
  type ServerHandle,
  startInfra,
  startRedis,
  startTokenIssuer,
  type TestTokenIssuer,
} from '@happening/testkit';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEvent } from '../src/modules/inventory/event-inventory.repository.ts';
import { reconcileEvent } from '../src/modules/inventory/reconcile.service.ts';
import { inventoryKeys } from '../src/redis/inventory.keys.ts';
import { type BookingService, startBookingService } from '../src/service.ts';
import { withGate } from './failing-inserts.ts';
import { configOn, eventSnapshot, publishedEvent } from './harness.ts';

// The ACL docs/operations.md ("Redis users per service") gives booking's Redis user: the keys of
// src/redis/inventory.keys.ts (every script declares each key it touches in KEYS, which Redis
// checks, as it checks each command a script runs), the commands the client sends, those its
// scripts run (they come as EVALSHA, then EVAL when Redis has not cached the script yet), INFO,
// which ioredis asks before it calls the connection ready, and SELECT for a URL's database other
// than 0.
const BOOKING_ACL = [
  'reset',
  'on',
  '>booking-s3cret',
  '~event:{*}:*',
  '~booking:{*}:*',
  '+evalsha',
  '+eval',
  '+get',
  '+set',
  '+del',
  '+exists',
  '+hget',
  '+hmget',
  '+hgetall',
  '+hset',
  '+hdel',
  '+hincrby',
  '+zadd',
  '+zrem',
  '+zcard',
  '+zrange',
  '+zrank',
  '+zscore',
  '+time',
  '+multi',
  '+exec',
  '+info',
  '+select',
];

// The service as main.ts starts it, connecting to Redis as booking's own user.
describe('booking as its own Redis user', () => {
  let infra: Infra;
  let redisServer: ServerHandle;
  let admin: Redis;
  let issuer: TestTokenIssuer;
  let catalog: Broker;
  let service: BookingService;
  let redisUrl: string;

  beforeAll(async () => {
    [infra, redisServer, issuer] = await Promise.all([
      startInfra(),
      startRedis(),
      startTokenIssuer(),
    ]);
    admin = new Redis(redisServer.url);
    await admin.call(
      'ACL',
      'SETUSER',
      'booking',
      ...BOOKING_ACL,
      ...connectionAclRules(await admin.info('server')),
    );
    const url = new URL(redisServer.url);
    url.username = 'booking';
    url.password = 'booking-s3cret';
    redisUrl = url.toString();
    service = await startBookingService(configOn({ ...infra, redisUrl }, issuer));
    catalog = await connectBroker({ url: infra.amqpUrl, logger: pino({ level: 'silent' }) });
  });

  afterAll(async () => {
    await service?.stop();
    await catalog?.close();
    admin?.disconnect();
    await Promise.all([issuer?.stop(), redisServer?.stop(), infra?.stop()]);
  });

  /** Publishes a catalog event as catalog does. */
  async function publish<T extends EventType>(
    type: T,
    data: EventData<T>,
    aggregate: { type: 'event'; id: string; version: number },
  ) {
    const envelope = buildEvent(type, data, {
      source: 'catalog',
      aggregate,
      correlationId: randomUUID(),
    });
    await catalog.publish({ routingKey: type, messageId: envelope.id, payload: envelope });
  }

  const call = (path: string, token: string, body?: unknown) =>
    fetch(`${service.address}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('opens, books, waitlists, promotes and drops an event, with no command refused', async () => {
    const snapshot = eventSnapshot({ totalSlots: 2 });
    const { eventId } = snapshot;
    const [first, second] = [randomUUID(), randomUUID()];
    const [firstToken, secondToken] = await Promise.all([
      issuer.token({ sub: first }),
      issuer.token({ sub: second }),
    ]);

    await publish(...publishedEvent(snapshot));
    await eventually(
      async () => (await call(`/v1/events/${eventId}/availability`, firstToken)).ok,
      {
        what: 'event open for bookings',
      },
    );
    const confirmed = await call(`/v1/events/${eventId}/bookings`, firstToken, { seats: 2 });
    expect(confirmed.status).toBe(201);
    const held = (await confirmed.json()) as { id: string; status: string };
    expect(held.status).toBe('confirmed');
    const waiting = await call(`/v1/events/${eventId}/bookings`, secondToken, { seats: 1 });
    expect(waiting.status).toBe(201);
    const queued = (await waiting.json()) as { id: string; status: string };
    expect(queued.status).toBe('waiting');
    expect(
      await (await call(`/v1/events/${eventId}/availability`, firstToken)).json(),
    ).toMatchObject({ availableSlots: 0, waitlistLength: 1 });
    expect((await fetch(`${service.address}/metrics`)).status).toBe(200);
    expect((await fetch(`${service.address}/readyz`)).status).toBe(200);

    expect((await call(`/v1/bookings/${held.id}/cancel`, firstToken, {})).ok).toBe(true);
    await eventually(
      async () =>
        (
          (await (await call(`/v1/bookings/${queued.id}`, secondToken)).json()) as {
            status: string;
          }
        ).status === 'confirmed',
      { what: 'the waiting booking promoted' },
    );

    await publish(
      'catalog.event_cancelled',
      {
        eventId,
        orgId: snapshot.orgId,
        name: snapshot.name,
        startsAt: snapshot.startsAt,
        reason: 'called off',
        cancelledBy: 'org-admin',
      },
      { type: 'event', id: eventId, version: 3 },
    );
    await eventually(async () => (await admin.exists(inventoryKeys(eventId).meta)) === 0, {
      what: "the event's keys dropped",
    });

    // Nothing booking sent was refused, not even a command whose error it would ignore.
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });

  it('runs a first_fit release that nobody waiting fits, with no command refused', async () => {
    const snapshot = eventSnapshot({ totalSlots: 3, waitlistPolicy: 'first_fit' });
    const { eventId } = snapshot;
    const [pair, big, single] = await Promise.all(
      [1, 2, 3].map(() => issuer.token({ sub: randomUUID() })),
    );
    await publish(...publishedEvent(snapshot));
    await eventually(async () => (await call(`/v1/events/${eventId}/availability`, pair!)).ok, {
      what: 'event open for bookings',
    });
    const book = async (token: string, seats: number) =>
      (await (await call(`/v1/events/${eventId}/bookings`, token, { seats })).json()) as {
        id: string;
        status: string;
      };
    expect((await book(pair!, 2)).status).toBe('confirmed');
    // Two seats asked, one free: it waits, and the free seat goes to the next who fits.
    expect((await book(big!, 2)).status).toBe('waiting');
    const one = await book(single!, 1);
    expect(one.status).toBe('confirmed');
    // One seat freed, and the only one waiting asks two: the counts answer at once.
    expect((await call(`/v1/bookings/${one.id}/cancel`, single!, {})).ok).toBe(true);
    expect(await (await call(`/v1/events/${eventId}/availability`, pair!)).json()).toMatchObject({
      availableSlots: 1,
      waitlistLength: 1,
    });
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });

  it('does not commit a capacity change while Redis can neither rebuild nor drop its keys', async () => {
    const snapshot = eventSnapshot({ totalSlots: 3 });
    const { eventId, orgId } = snapshot;
    const token = await issuer.token({ sub: randomUUID() });
    await publish(...publishedEvent(snapshot));
    await eventually(async () => (await call(`/v1/events/${eventId}/availability`, token)).ok, {
      what: 'event open for bookings',
    });
    /** How many DELs Redis refused booking (ACL LOG counts repeats of one entry). */
    const refusedDeletes = async () => {
      const entries = (await admin.call('ACL', 'LOG')) as unknown[][];
      const entry = entries.find((fields) => fields[fields.indexOf('object') + 1] === 'del');
      return entry ? Number(entry[entry.indexOf('count') + 1]) : 0;
    };
    const totalInPostgres = async () => (await findEvent(service.ctx.db, eventId))?.totalSlots;
    await admin.call('ACL', 'LOG', 'RESET');
    // Redis refuses booking's scripts and deletes, as during a failover or a script blocking it.
    await admin.call('ACL', 'SETUSER', 'booking', '-evalsha', '-eval', '-del');
    try {
      await publish(
        'catalog.event_capacity_changed',
        { eventId, orgId, previousTotalSlots: 3, totalSlots: 1 },
        { type: 'event', id: eventId, version: 3 },
      );
      // Its rebuild refused, and both drops after it (the rebuild's own, then the change's, which
      // decides whether it may commit): no later than the change's first attempt has ended...
      await eventually(async () => (await refusedDeletes()) >= 2, { what: 'both drops refused' });
      // ...the change did not commit: Redis's keys, still selling 3 seats, agree with Postgres.
      expect(await totalInPostgres()).toBe(3);
    } finally {
      await admin.call('ACL', 'SETUSER', 'booking', '+evalsha', '+eval', '+del');
      await admin.call('ACL', 'LOG', 'RESET');
    }
    // Redelivered once Redis takes the calls again, it commits with its rebuild.
    await eventually(async () => (await totalInPostgres()) === 1, {
      what: 'the change applied on redelivery',
    });
    await eventually(
      async () =>
        (
          (await (await call(`/v1/events/${eventId}/availability`, token)).json()) as {
            totalSlots: number;
          }
        ).totalSlots === 1,
      { what: 'Redis rebuilt for 1 seat' },
    );
  });

  /** An event of one seat, open: a holder's booking holds it, a waiter's waits for it. */
  async function oneSeatHeldAndAwaited() {
    const snapshot = eventSnapshot({ totalSlots: 1 });
    const { eventId } = snapshot;
    const [holder, waiter] = await Promise.all([
      issuer.token({ sub: randomUUID() }),
      issuer.token({ sub: randomUUID() }),
    ]);
    await publish(...publishedEvent(snapshot));
    await eventually(async () => (await call(`/v1/events/${eventId}/availability`, holder)).ok, {
      what: 'event open for bookings',
    });
    const booked = await call(`/v1/events/${eventId}/bookings`, holder, { seats: 1 });
    const held = (await booked.json()) as { id: string };
    const queued = (await (
      await call(`/v1/events/${eventId}/bookings`, waiter, { seats: 1 })
    ).json()) as { id: string; status: string };
    expect(queued.status).toBe('waiting');
    return { eventId, holder, waiter, held, queued };
  }

  /**
   * `oneSeatHeldAndAwaited`, then the holder's cancellation fails after Redis
   * released the seat and promoted the waiting booking into it, and Redis refuses booking's
   * scripts and deletes from then until the cancellation has been answered: no rebuild after the
   * failure, and no drop either. Redis's keys are left holding the promotion Postgres never
   * recorded.
   */
  async function cancellationFailedWhileRedisRefused() {
    const { eventId, holder, waiter, held, queued } = await oneSeatHeldAndAwaited();

    const failed = await withGate(service.ctx.db, (gate) =>
      withFailingWrites(
        service.ctx.db,
        {
          table: 'booking_history',
          on: 'INSERT',
          when: sql`NEW.action = 'cancelled'`,
          gate: gate.key,
        },
        async () => {
          const cancelling = call(`/v1/bookings/${held.id}/cancel`, holder, {});
          // Redis has released the seat and promoted the waiting booking; the write recording
          // both waits at the gate, then fails.
          await gate.reached();
          await admin.call('ACL', 'SETUSER', 'booking', '-evalsha', '-eval', '-del');
          await gate.open();
          return cancelling;
        },
      ),
    ).finally(async () => {
      await admin.call('ACL', 'SETUSER', 'booking', '+evalsha', '+eval', '+del');
      await admin.call('ACL', 'LOG', 'RESET');
    });
    expect(failed.ok).toBe(false);
    return { eventId, holder, waiter, held, queued };
  }

  it('cancels again, after a cancellation failed while Redis would neither rebuild nor drop its keys, on keys rebuilt from Postgres', async () => {
    const { holder, waiter, held, queued } = await cancellationFailedWhileRedisRefused();
    // The cancellation sent again finds the keys untrusted and rebuilds them first: its release
    // promotes the waiting booking (on the keys as Redis left them, nobody was left to promote).
    expect((await call(`/v1/bookings/${held.id}/cancel`, holder, {})).status).toBe(200);
    expect(await (await call(`/v1/bookings/${queued.id}`, waiter)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [1],
    });
  });

  it('shows, after a cancellation failed while Redis would neither rebuild nor drop its keys, the availability Postgres holds', async () => {
    const { eventId, holder } = await cancellationFailedWhileRedisRefused();
    // Not the keys' figures (the seat taken by a promotion, nobody waiting): rebuilt first.
    expect(await (await call(`/v1/events/${eventId}/availability`, holder)).json()).toEqual({
      totalSlots: 1,
      availableSlots: 0,
      waitlistLength: 1,
    });
  });

  it('records the keys untrusted when a rebuild whose promotion Postgres refused cannot drop them', async () => {
    const { eventId, holder, waiter, queued } = await oneSeatHeldAndAwaited();
    // A second seat in Postgres: the next rebuild promotes the waiting booking into it.
    await service.ctx.db
      .updateTable('event_inventory')
      .set({ total_slots: 2 })
      .where('event_id', '=', eventId)
      .execute();
    // Redis runs the rebuild, Postgres refuses to record its promotion, Redis refuses the drop.
    await admin.call('ACL', 'SETUSER', 'booking', '-del');
    const failure = await withFailingWrites(
      service.ctx.db,
      { table: 'booking_history', on: 'INSERT', when: sql`NEW.action = 'promoted'` },
      () => reconcileEvent(service.ctx, eventId, { correlationId: randomUUID() }).catch((e) => e),
    ).finally(async () => {
      await admin.call('ACL', 'SETUSER', 'booking', '+del');
      await admin.call('ACL', 'LOG', 'RESET');
    });
    expect(failure).toBeInstanceOf(Error);
    // The rebuild's own writes undone, its keys (the promotion made) vouched for by nobody.
    expect((await findEvent(service.ctx.db, eventId))?.redisGeneration).toMatch(/^untrusted:/);
    expect(await (await call(`/v1/bookings/${queued.id}`, waiter)).json()).toMatchObject({
      status: 'waiting',
    });
    // The next request rebuilds them, and the promotion is made and recorded then.
    expect(await (await call(`/v1/events/${eventId}/availability`, holder)).json()).toEqual({
      totalSlots: 2,
      availableSlots: 0,
      waitlistLength: 0,
    });
    expect(await (await call(`/v1/bookings/${queued.id}`, waiter)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [2],
    });
  });

  it("is refused the gateway's rate-limit counters", async () => {
    const booking = new Redis(redisUrl);
    try {
      await expect(booking.get('gateway:ratelimit:ip:127.0.0.1')).rejects.toThrow(/NOPERM/);
      await expect(booking.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
    } finally {
      booking.disconnect();
    }
  });
});
