import { randomUUID } from 'node:crypto';
import {
  buildEvent,
  type DomainEvent,
  type EventData,
  type EventType,
  type Role,
} from '@happening/contracts';
import { type Broker, connectBroker, SUBSCRIBING_SERVICES } from '@happening/messaging';
import { captureEvents } from '@happening/messaging/testing';
import { eventually, startInfra, startTokenIssuer, type TestTokenIssuer } from '@happening/testkit';
import type { LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import { readConfig } from '../src/config.ts';
import { createContext } from '../src/context.factory.ts';
import { createBookingDb } from '../src/db/db.factory.ts';
import { findEvent } from '../src/modules/inventory/event-inventory.repository.ts';
import { roleOf } from '../src/modules/memberships/membership.repository.ts';
import { startRuntime } from '../src/runtime.ts';
import { BOOKING_SCHEMA, migrateBooking } from '../src/schema.ts';

export interface TestUser {
  sub: string;
  token: string;
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

type EventOptions = {
  totalSlots?: number;
  waitlistPolicy?: 'fifo' | 'first_fit';
  maxSeatsPerBooking?: number;
  orgId?: string;
  visibility?: 'public' | 'members';
};

/** A catalog event snapshot (version 2, upcoming, in ten days) of a new event. */
export function eventSnapshot(options: EventOptions = {}) {
  return {
    eventId: randomUUID(),
    orgId: options.orgId ?? randomUUID(),
    name: 'Flash sale',
    description: 'Seats go fast',
    category: 'concert' as const,
    startsAt: inDays(10),
    endsAt: inDays(10.2),
    timezone: 'Europe/Paris',
    venue: 'Main hall',
    totalSlots: options.totalSlots ?? 100,
    status: 'upcoming' as const,
    visibility: options.visibility ?? 'public',
    waitlistPolicy: options.waitlistPolicy ?? 'fifo',
    maxSeatsPerBooking: options.maxSeatsPerBooking ?? 4,
    version: 2,
  };
}

/** The `catalog.event_published` of `snapshot`, at its version, as `publish`/`deliver` take it. */
export function publishedEvent(snapshot: ReturnType<typeof eventSnapshot>) {
  return [
    'catalog.event_published',
    { ...snapshot, publishedAt: new Date().toISOString() },
    { type: 'event', id: snapshot.eventId, version: snapshot.version },
  ] as const;
}

/**
 * The configuration main.ts would read, on these servers (AMQP at `amqpUrl`, e.g. a proxy's),
 * with `overrides` on top.
 */
export function configOn(
  servers: { postgresUrl: string; redisUrl: string; amqpUrl: string },
  issuer: TestTokenIssuer,
  overrides: Record<string, string> = {},
) {
  return readConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    SHUTDOWN_DRAIN_MS: '0',
    DATABASE_URL: servers.postgresUrl,
    REDIS_URL: servers.redisUrl,
    AMQP_URL: servers.amqpUrl,
    OIDC_ISSUER: issuer.issuer,
    OIDC_JWKS_URI: issuer.jwksUri,
    OIDC_AUDIENCE: issuer.audience,
    ...overrides,
  });
}

/**
 * The booking service wired as main.ts wires it, on throwaway Postgres, Redis and RabbitMQ, with
 * a test queue collecting every `booking.*` event it publishes.
 */
export async function startBooking() {
  const infra = await startInfra();
  const issuer = await startTokenIssuer();
  const logger = pino({ level: 'silent' });
  const db = createBookingDb({
    connectionString: infra.postgresUrl,
    schema: BOOKING_SCHEMA,
    max: 20,
  });
  await migrateBooking(db);
  const redis = new Redis(infra.redisUrl);

  const captured = await captureEvents(infra.amqpUrl, ['booking.#']);
  const published = captured.events;

  const broker: Broker = await connectBroker({ url: infra.amqpUrl, logger });
  const { ctx, availability, connectRelay } = createContext({
    db,
    redis,
    logger,
    rebuildWaitMs: 5_000,
    availabilityDebounceMs: 50,
  });
  const runtime = await startRuntime({
    ctx,
    availability,
    connectRelay,
    broker,
    reconcileIntervalMs: 3_600_000,
    // Far beyond any test's patience: events a test awaits come out because the relay resumes
    // when the bookings are done, not because the bound ran out.
    outboxMaxDeferMs: 60_000,
    eventConsumers: SUBSCRIBING_SERVICES,
  });
  // Its start-up pass runs beside the service; a test's keys are not rebuilt under it.
  await runtime.startupPass;
  const app = await buildApp({
    ctx,
    logger,
    auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri },
  });
  await app.ready();

  async function user(): Promise<TestUser> {
    const sub = randomUUID();
    return { sub, token: await issuer.token({ sub }) };
  }

  function call(
    who: TestUser | undefined,
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    return app.inject({
      method,
      url,
      headers: { ...(who ? { authorization: `Bearer ${who.token}` } : {}), ...headers },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
  }

  /** Asks `seats` seats of an event for `who`, through HTTP. */
  const book = (who: TestUser, eventId: string, seats: number) =>
    call(who, 'POST', `/v1/events/${eventId}/bookings`, { seats });

  /** Publishes an envelope onto happening.events as the owning service would. */
  async function publish<T extends EventType>(
    type: T,
    data: EventData<T>,
    aggregate: { type: string; id: string; version: number },
  ) {
    const envelope = buildEvent(type, data, {
      source: type.startsWith('identity.') ? 'identity-org' : 'catalog',
      aggregate,
      correlationId: randomUUID(),
    });
    await broker.publish({ routingKey: type, messageId: envelope.id, payload: envelope });
    return envelope;
  }

  // Each membership event a version above the last, as identity-org numbers an organization's.
  let membershipVersion = 0;
  async function join(who: TestUser, orgId: string, role: Role) {
    membershipVersion += 1;
    await publish(
      'identity.member_joined',
      { organizationId: orgId, userId: who.sub, role },
      { type: 'organization', id: orgId, version: membershipVersion },
    );
    await eventually(async () => (await roleOf(db, orgId, who.sub)) === role, {
      what: `${role} membership`,
    });
  }

  /** Publishes an event booking consumes and waits until it has handled it. */
  async function deliver<T extends EventType>(
    type: T,
    data: EventData<T>,
    aggregate: { type: string; id: string; version: number },
  ) {
    const envelope = await publish(type, data, aggregate);
    await handled(envelope.id);
    return envelope;
  }

  /** Waits until the booking service's consumer has handled the message. */
  async function handled(messageId: string) {
    await eventually(
      async () =>
        (await db
          .selectFrom('inbox')
          .select('message_id')
          .where('message_id', '=', messageId)
          .executeTakeFirst()) !== undefined,
      { what: `message ${messageId} handled` },
    );
  }

  /** Publishes catalog.event_published and waits until the event is open for bookings. */
  async function openEvent(options: EventOptions = {}) {
    const snapshot = eventSnapshot(options);
    const { eventId, orgId } = snapshot;
    await publish(...publishedEvent(snapshot));
    await eventually(
      async () => (await findEvent(db, eventId)) && (await ctx.inventory.exists(eventId)),
      {
        what: 'event opened',
      },
    );
    return { eventId, orgId, snapshot };
  }

  function eventsOf<T extends EventType>(
    type: T,
    filter: (e: Extract<DomainEvent, { type: T }>) => boolean,
  ) {
    return published.filter(
      (e): e is Extract<DomainEvent, { type: T }> => e.type === type && filter(e as never),
    );
  }

  async function stop() {
    await app.close();
    await runtime.stop();
    await broker.close();
    await captured.close();
    await redis.quit();
    await db.destroy();
    await issuer.stop();
    await infra.stop();
  }

  return {
    app,
    ctx,
    db,
    redis,
    broker,
    amqpUrl: infra.amqpUrl,
    runtime,
    availability,
    published,
    user,
    call,
    book,
    publish,
    join,
    openEvent,
    deliver,
    eventsOf,
    stop,
  };
}

export type Booking = Awaited<ReturnType<typeof startBooking>>;

/**
 * A cancellation's Redis release whose transaction then rolled back: seat `seat` of `bookingId`
 * freed in Redis and whoever waits first promoted there, on keys Postgres vouches for, with a
 * token Postgres never recorded. Answers the release.
 */
export async function releaseNotRecorded(
  svc: Booking,
  eventId: string,
  bookingId: string,
  seat: number,
) {
  const event = await findEvent(svc.db, eventId);
  if (!event) throw new Error(`event ${eventId} not found`);
  return svc.ctx.inventory.release(
    eventId,
    { bookingId, status: 'confirmed', seatNumbers: [seat] },
    event,
    randomUUID(),
  );
}
