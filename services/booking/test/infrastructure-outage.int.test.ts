import { randomUUID } from 'node:crypto';
import { buildEvent } from '@happening/contracts';
import { connectBroker } from '@happening/messaging';
import {
  eventually,
  type Infra,
  type RabbitMqHandle,
  type ServerHandle,
  startInfra,
  startRabbitMq,
  startRedis,
  startTcpProxy,
  startTokenIssuer,
  type TestTokenIssuer,
} from '@happening/testkit';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateBooking } from '../src/schema.ts';
import { type BookingService, startBookingService } from '../src/service.ts';
import { configOn, eventSnapshot, publishedEvent } from './harness.ts';

/** Publishes `catalog.event_published` of a new event as catalog would, on its own connection. */
async function publishCatalogEvent(
  rabbit: RabbitMqHandle,
  options: Parameters<typeof eventSnapshot>[0] = {},
) {
  const snapshot = eventSnapshot(options);
  const [type, data, aggregate] = publishedEvent(snapshot);
  const catalog = await connectBroker({ url: rabbit.url, logger: pino({ level: 'silent' }) });
  const envelope = buildEvent(type, data, {
    source: 'catalog',
    aggregate,
    correlationId: randomUUID(),
  });
  await catalog.publish({ routingKey: type, messageId: envelope.id, payload: envelope });
  await catalog.close();
  return snapshot;
}

const fetchFrom =
  (service: () => BookingService) =>
  (path: string, token?: string, init: RequestInit = {}) =>
    fetch(`${service().address}${path}`, {
      ...init,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });

/** Publishes a new event as catalog would and waits until `service` takes bookings for it. */
async function openEvent(
  rabbit: RabbitMqHandle,
  service: BookingService,
  token: string,
  options: Parameters<typeof eventSnapshot>[0] = {},
) {
  const snapshot = await publishCatalogEvent(rabbit, options);
  const get = fetchFrom(() => service);
  await eventually(
    async () => (await get(`/v1/events/${snapshot.eventId}/availability`, token)).ok,
    { what: 'event open for bookings' },
  );
  return snapshot;
}

/** The service as main.ts starts it, on servers of its own, with one of them behind a proxy. */
async function startBehindProxy(proxied: 'REDIS_URL' | 'DATABASE_URL') {
  const [infra, rabbit, issuer] = await Promise.all([
    startInfra(),
    startRabbitMq(),
    startTokenIssuer(),
  ]);
  const proxy = await startTcpProxy(proxied === 'REDIS_URL' ? infra.redisUrl : infra.postgresUrl);
  const service = await startBookingService(
    configOn({ ...infra, amqpUrl: rabbit.url }, issuer, { [proxied]: proxy.url }),
  );
  const stop = async () => {
    await service.stop();
    await proxy.close();
    await Promise.all([rabbit.stop(), issuer.stop(), infra.stop()]);
  };
  return { rabbit, issuer, proxy, service, stop };
}

type ServiceBehindProxy = Awaited<ReturnType<typeof startBehindProxy>>;

// The service as main.ts starts it, with its Redis behind a proxy that goes silent.
describe('booking while Redis answers nothing', () => {
  let setup: ServiceBehindProxy;

  beforeAll(async () => {
    setup = await startBehindProxy('REDIS_URL');
  });

  afterAll(() => setup?.stop());

  const get = fetchFrom(() => setup.service);

  it("reads a waiting booking's place from Postgres", async () => {
    const [holder, waiter] = await Promise.all(
      [1, 2].map(() => setup.issuer.token({ sub: randomUUID() })),
    );
    const snapshot = await openEvent(setup.rabbit, setup.service, holder!, { totalSlots: 1 });
    const book = async (token: string) =>
      (await (
        await get(`/v1/events/${snapshot.eventId}/bookings`, token, {
          method: 'POST',
          body: JSON.stringify({ seats: 1 }),
        })
      ).json()) as { id: string; status: string };
    expect((await book(holder!)).status).toBe('confirmed');
    const waiting = await book(waiter!);
    expect(waiting.status).toBe('waiting');
    setup.proxy.freeze();
    try {
      const read = await get(`/v1/bookings/${waiting.id}`, waiter);
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ status: 'waiting', waitlistPosition: 1 });
    } finally {
      setup.proxy.thaw();
    }
  });

  it('answers a booking with an error instead of holding it, and says it is not ready', async () => {
    const token = await setup.issuer.token({ sub: randomUUID() });
    const snapshot = await openEvent(setup.rabbit, setup.service, token);
    // A dead node or a partition: no answer, and no connection closed.
    setup.proxy.freeze();
    const booking = await get(`/v1/events/${snapshot.eventId}/bookings`, token, {
      method: 'POST',
      body: JSON.stringify({ seats: 1 }),
    });
    expect(booking.status).toBe(503);
    expect(booking.headers.get('retry-after')).toBe('2');
    expect(await booking.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect((await get('/readyz')).status).toBe(503);
    // It still shuts down, closing its pool, though Redis never answers QUIT.
    await expect(setup.service.stop()).resolves.toBeUndefined();
  });
});

// The service as main.ts starts it, on a Redis of its own that runs out of memory.
describe('booking while Redis refuses writes for want of memory', () => {
  let infra: Infra;
  let rabbit: RabbitMqHandle;
  let redis: ServerHandle;
  let admin: Redis;
  let issuer: TestTokenIssuer;
  let service: BookingService;

  beforeAll(async () => {
    [infra, rabbit, redis, issuer] = await Promise.all([
      startInfra(),
      startRabbitMq(),
      startRedis(),
      startTokenIssuer(),
    ]);
    admin = new Redis(redis.url);
    service = await startBookingService(
      configOn({ ...infra, amqpUrl: rabbit.url, redisUrl: redis.url }, issuer),
    );
  });

  afterAll(async () => {
    await service?.stop();
    admin?.disconnect();
    await Promise.all([rabbit?.stop(), redis?.stop(), issuer?.stop(), infra?.stop()]);
  });

  const get = fetchFrom(() => service);
  const book = (eventId: string, token: string) =>
    get(`/v1/events/${eventId}/bookings`, token, {
      method: 'POST',
      body: JSON.stringify({ seats: 1 }),
    });

  it('answers 503 with Retry-After, not 500, and books once Redis has room again', async () => {
    const token = await issuer.token({ sub: randomUUID() });
    const snapshot = await openEvent(rabbit, service, token);
    // Under the default policy (noeviction) every write is refused with OOM.
    await admin.config('SET', 'maxmemory', '1');
    try {
      const refused = await book(snapshot.eventId, token);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('2');
      expect(await refused.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    const booked = await book(snapshot.eventId, token);
    expect(booked.status).toBe(201);
  });
});

// The service as main.ts starts it, with its Postgres behind a proxy that stops taking connections.
describe('booking while Postgres refuses connections', () => {
  let setup: ServiceBehindProxy;

  beforeAll(async () => {
    setup = await startBehindProxy('DATABASE_URL');
  });

  afterAll(() => setup?.stop());

  const get = fetchFrom(() => setup.service);

  it('answers 503 with Retry-After, which the client may retry, instead of a 500', async () => {
    const token = await setup.issuer.token({ sub: randomUUID() });
    expect((await get('/v1/me/bookings', token)).status).toBe(200);
    // Its open connections drop and new ones are refused, as when Postgres restarts.
    await setup.proxy.close();
    const answer = await get('/v1/me/bookings', token);
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('2');
    expect(await answer.json()).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      retryAfterSeconds: 2,
    });
  });
});

// The service as main.ts starts it, on a RabbitMQ of its own that the test stops.
describe('booking while RabbitMQ is down', () => {
  let infra: Infra;
  let rabbit: RabbitMqHandle;
  let issuer: TestTokenIssuer;
  let service: BookingService;

  beforeAll(async () => {
    [infra, rabbit, issuer] = await Promise.all([
      startInfra(),
      startRabbitMq(),
      startTokenIssuer(),
    ]);
    service = await startBookingService(configOn({ ...infra, amqpUrl: rabbit.url }, issuer));
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([rabbit?.stop(), issuer?.stop(), infra?.stop()]);
  });

  const get = fetchFrom(() => service);

  it('stays ready and takes bookings, holding their events in the outbox', async () => {
    const token = await issuer.token({ sub: randomUUID() });
    const snapshot = await openEvent(rabbit, service, token);

    await rabbit.halt();
    await eventually(
      async () => (await (await get('/metrics')).text()).includes('\nhappening_broker_connected 0'),
      { what: 'happening_broker_connected 0' },
    );

    const readiness = await get('/readyz');
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toEqual({
      status: 'ready',
      checks: { postgres: 'ok', redis: 'ok' },
    });

    const booked = await get(`/v1/events/${snapshot.eventId}/bookings`, token, {
      method: 'POST',
      body: JSON.stringify({ seats: 2 }),
    });
    expect(booked.status).toBe(201);
    const { id: bookingId } = (await booked.json()) as { id: string };
    // The relay has tried (and failed) to publish at least once, and the event is still held.
    const held = await eventually(
      () =>
        service.ctx.db
          .selectFrom('outbox')
          .select(['routing_key', 'published_at', 'attempts'])
          .where('aggregate_id', '=', bookingId)
          .where('attempts', '>', 0)
          .executeTakeFirst(),
      { what: 'a publish attempt of the booking event' },
    );
    expect(held).toMatchObject({ routing_key: 'booking.booking_confirmed', published_at: null });
  });
});

// A pod (re)started during a broker outage: it must come up and serve, not wait for RabbitMQ.
describe('booking started while RabbitMQ is down', () => {
  let infra: Infra;
  let rabbit: RabbitMqHandle;
  let issuer: TestTokenIssuer;
  let service: BookingService;
  let eventId: string;

  beforeAll(async () => {
    [infra, rabbit, issuer] = await Promise.all([
      startInfra(),
      startRabbitMq(),
      startTokenIssuer(),
    ]);
    // An earlier life of the service learnt of an event; then the broker went away and the pod
    // was rescheduled.
    const before = await startBookingService(configOn({ ...infra, amqpUrl: rabbit.url }, issuer));
    const token = await issuer.token({ sub: randomUUID() });
    ({ eventId } = await openEvent(rabbit, before, token));
    await before.stop();
    await rabbit.halt();
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([rabbit?.stop(), issuer?.stop(), infra?.stop()]);
  });

  const call = fetchFrom(() => service);

  it('starts ready, takes bookings into the outbox, and publishes them once the broker is up', async () => {
    service = await startBookingService(configOn({ ...infra, amqpUrl: rabbit.url }, issuer));
    const readiness = await call('/readyz');
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toEqual({
      status: 'ready',
      checks: { postgres: 'ok', redis: 'ok' },
    });
    expect(await (await call('/metrics')).text()).toContain('\nhappening_broker_connected 0');

    const token = await issuer.token({ sub: randomUUID() });
    const booked = await call(`/v1/events/${eventId}/bookings`, token, {
      method: 'POST',
      body: JSON.stringify({ seats: 2 }),
    });
    expect(booked.status).toBe(201);
    const { id: bookingId } = (await booked.json()) as { id: string };
    const row = () =>
      service.ctx.db
        .selectFrom('outbox')
        .select(['routing_key', 'published_at', 'attempts'])
        .where('aggregate_id', '=', bookingId)
        .executeTakeFirst();
    const held = await eventually(async () => ((await row())?.attempts ?? 0) > 0 && row(), {
      what: 'a failed publish attempt of the booking event',
    });
    expect(held).toMatchObject({ routing_key: 'booking.booking_confirmed', published_at: null });

    await rabbit.start();
    await eventually(async () => (await row())?.published_at != null, {
      timeoutMs: 45_000,
      what: 'the booking event published',
    });
    // Publishing and consuming reconnect each on its own backoff: connected once both are back.
    await eventually(
      async () =>
        (await (await call('/metrics')).text()).includes('\nhappening_broker_connected 1'),
      { timeoutMs: 30_000, what: 'happening_broker_connected 1' },
    );
  });
});

// The service as main.ts starts it, with its Postgres behind a proxy that loses the answer to a
// booking's COMMIT after Postgres carried it out.
describe('booking whose COMMIT goes unanswered', () => {
  let setup: ServiceBehindProxy;

  beforeAll(async () => {
    setup = await startBehindProxy('DATABASE_URL');
  });

  afterAll(() => setup?.stop());

  const call = fetchFrom(() => setup.service);

  /** Books `seats` as a new person, the write's COMMIT answer lost on the way back. */
  async function bookLosingCommit(eventId: string, seats: number) {
    const token = await setup.issuer.token({ sub: randomUUID() });
    setup.proxy.loseNextAnswer('append_created_bookings', 'COMMIT');
    const booked = await call(`/v1/events/${eventId}/bookings`, token, {
      method: 'POST',
      body: JSON.stringify({ seats }),
    });
    return { token, booked };
  }

  /** The booking's answer matches Postgres, and Redis kept the seats Postgres holds. */
  async function expectCommitted(
    eventId: string,
    totalSlots: number,
    { token, booked }: Awaited<ReturnType<typeof bookLosingCommit>>,
    seatNumbers: number[],
  ) {
    expect(booked.status).toBe(201);
    const body = (await booked.json()) as { id: string; status: string; seatNumbers: number[] };
    expect(body).toMatchObject({ status: 'confirmed', seatNumbers });
    const stored = await call(`/v1/bookings/${body.id}`, token);
    expect(stored.status).toBe(200);
    expect(await stored.json()).toMatchObject({ id: body.id, status: 'confirmed', seatNumbers });
    const availability = await call(`/v1/events/${eventId}/availability`, token);
    expect(await availability.json()).toMatchObject({
      totalSlots,
      availableSlots: totalSlots - seatNumbers.length,
    });
  }

  it('answers a batched booking that committed as booked, and keeps its seats taken', async () => {
    const token = await setup.issuer.token({ sub: randomUUID() });
    const snapshot = await openEvent(setup.rabbit, setup.service, token);
    const first = await bookLosingCommit(snapshot.eventId, 2);
    await expectCommitted(snapshot.eventId, snapshot.totalSlots, first, [1, 2]);
    // The seats were not handed back: the next person gets the ones after them.
    const next = await call(`/v1/events/${snapshot.eventId}/bookings`, token, {
      method: 'POST',
      body: JSON.stringify({ seats: 1 }),
    });
    expect(await next.json()).toMatchObject({ status: 'confirmed', seatNumbers: [3] });
  });

  it('does the same for a booking made on its own after its event was rebuilt', async () => {
    const token = await setup.issuer.token({ sub: randomUUID() });
    const snapshot = await openEvent(setup.rabbit, setup.service, token);
    // Keys missing in Redis: the batch leaves the request alone, which rebuilds and books.
    await setup.service.ctx.inventory.drop(snapshot.eventId);
    const alone = await bookLosingCommit(snapshot.eventId, 3);
    await expectCommitted(snapshot.eventId, snapshot.totalSlots, alone, [1, 2, 3]);
  });
});

// A first install whose migrations run after the pods start (the chart's in-cluster Postgres).
describe('booking started before its tables exist', () => {
  let infra: Infra;
  let rabbit: RabbitMqHandle;
  let issuer: TestTokenIssuer;
  let service: BookingService | undefined;

  beforeAll(async () => {
    [infra, rabbit, issuer] = await Promise.all([
      startInfra(),
      startRabbitMq(),
      startTokenIssuer(),
    ]);
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([rabbit?.stop(), issuer?.stop(), infra?.stop()]);
  });

  it('starts and serves, and takes bookings once the migrations have run', async () => {
    service = await startBookingService(
      configOn({ ...infra, amqpUrl: rabbit.url }, issuer, { RUN_MIGRATIONS: 'false' }),
    );
    const call = fetchFrom(() => service!);
    expect((await call('/healthz')).status).toBe(200);

    // What the migrations Job does once the database is up.
    await migrateBooking(service.ctx.db);
    const token = await issuer.token({ sub: randomUUID() });
    const snapshot = await openEvent(rabbit, service, token);
    const booked = await call(`/v1/events/${snapshot.eventId}/bookings`, token, {
      method: 'POST',
      body: JSON.stringify({ seats: 1 }),
    });
    expect(booked.status).toBe(201);
  });
});
