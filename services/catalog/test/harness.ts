import { randomUUID } from 'node:crypto';
import {
  buildEvent,
  type DomainEvent,
  type EventData,
  type EventType,
  type Role,
} from '@happening/contracts';
import { createDb } from '@happening/db';
import { type Broker, connectBroker, SUBSCRIBING_SERVICES } from '@happening/messaging';
import { captureEvents } from '@happening/messaging/testing';
import { eventually, startInfra, startTokenIssuer } from '@happening/testkit';
import type { LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import type { CatalogDatabase, CatalogDb } from '../src/database.ts';
import { roleOf } from '../src/modules/memberships/membership.repository.ts';
import { startRuntime } from '../src/runtime.ts';
import { CATALOG_SCHEMA, migrateCatalog } from '../src/schema.ts';

export interface TestUser {
  sub: string;
  token: string;
}

type Method = 'GET' | 'POST' | 'PATCH';

/** A clock tests set by hand; it reads the real time until set. */
export function testClock() {
  let fixed: Date | undefined;
  return {
    now: () => (fixed ? new Date(fixed) : new Date()),
    set(date: Date | string) {
      fixed = new Date(date);
    },
  };
}

export const inDays = (days: number, from = new Date()) =>
  new Date(from.getTime() + days * 86_400_000).toISOString();

/** A valid create body; `overrides` replace fields. */
/** What publishing an event answers, as the tests read it. */
export interface PublishedEvent {
  id: string;
  version: number;
  startsAt: string;
  endsAt: string;
  [field: string]: unknown;
}

export function eventBody(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Jazz night',
    description: 'Live jazz in the blue room',
    category: 'concert',
    startsAt: inDays(10),
    endsAt: inDays(10.2),
    timezone: 'Europe/Paris',
    venue: 'Blue Room',
    totalSlots: 100,
    ...overrides,
  };
}

/**
 * The catalog wired as main.ts wires it, on throwaway Postgres and RabbitMQ, with a test queue
 * collecting every `catalog.*` event it publishes. The lifecycle job only runs when a test asks.
 */
export async function startCatalog() {
  const infra = await startInfra();
  const issuer = await startTokenIssuer();
  const logger = pino({ level: 'silent' });
  const db: CatalogDb = createDb<CatalogDatabase>({
    connectionString: infra.postgresUrl,
    schema: CATALOG_SCHEMA,
  });
  await migrateCatalog(db);

  const captured = await captureEvents(infra.amqpUrl, ['catalog.#']);
  const published = captured.events;

  const clock = testClock();
  const broker: Broker = await connectBroker({ url: infra.amqpUrl, logger });
  const runtime = await startRuntime({
    db,
    broker,
    logger,
    clock: clock.now,
    lifecycleIntervalMs: 3_600_000,
    eventConsumers: SUBSCRIBING_SERVICES,
  });
  const app = await buildApp({
    db,
    clock: clock.now,
    afterCommit: runtime.wake,
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
    method: Method,
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

  /** An event created in `orgId` by `who` from `eventBody(overrides)` and published by them. */
  async function publishedEvent(
    who: TestUser,
    orgId: string,
    overrides: Record<string, unknown> = {},
  ): Promise<PublishedEvent> {
    const created = await call(who, 'POST', `/v1/orgs/${orgId}/events`, eventBody(overrides));
    if (created.statusCode !== 201) throw new Error(`create answered ${created.body}`);
    const published = await call(who, 'POST', `/v1/events/${created.json().id}/publish`);
    if (published.statusCode !== 200) throw new Error(`publish answered ${published.body}`);
    return published.json();
  }

  /**
   * Publishes an envelope onto happening.events as the owning service would; without a version,
   * each envelope gets a higher one than the last (as an aggregate's events do).
   */
  let lastVersion = 0;
  async function publish<T extends EventType>(
    type: T,
    data: EventData<T>,
    source: 'identity-org' | 'booking',
    aggregate: { type: string; id: string; version?: number },
  ) {
    lastVersion += 1;
    const envelope = buildEvent(type, data, {
      source,
      aggregate: { ...aggregate, version: aggregate.version ?? lastVersion },
      correlationId: randomUUID(),
    });
    await broker.publish({ routingKey: type, messageId: envelope.id, payload: envelope });
    return envelope;
  }

  /** Makes `who` a member of `orgId` through identity.member_joined and waits for the projection. */
  async function join(who: TestUser, orgId: string, role: Role) {
    await publish(
      'identity.member_joined',
      { organizationId: orgId, userId: who.sub, role },
      'identity-org',
      { type: 'organization', id: orgId },
    );
    await eventually(async () => (await roleOf(db, orgId, who.sub)) === role, {
      what: `${role} membership`,
    });
  }

  /** Waits until the catalog published `count` events of `type` about `eventId`, and returns them. */
  function eventsAbout<T extends EventType>(
    eventId: string,
    type: T,
    count = 1,
  ): Promise<Extract<DomainEvent, { type: T }>[]> {
    return eventually(
      () => {
        const found = published.filter(
          (e): e is Extract<DomainEvent, { type: T }> =>
            e.type === type && e.aggregate.id === eventId,
        );
        return found.length >= count ? found : undefined;
      },
      { what: `${count} × ${type} of ${eventId}` },
    );
  }

  async function stop() {
    await app.close();
    await runtime.stop();
    await broker.close();
    await captured.close();
    await db.destroy();
    await issuer.stop();
    await infra.stop();
  }

  return {
    postgresUrl: infra.postgresUrl,
    amqpUrl: infra.amqpUrl,
    app,
    db,
    broker,
    runtime,
    clock,
    published,
    user,
    call,
    publishedEvent,
    publish,
    join,
    eventsAbout,
    stop,
  };
}

export type Catalog = Awaited<ReturnType<typeof startCatalog>>;
