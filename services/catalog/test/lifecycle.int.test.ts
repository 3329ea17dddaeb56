import { randomUUID } from 'node:crypto';
import { createDb } from '@happening/db';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDatabase } from '../src/database.ts';
import { runLifecycle } from '../src/modules/lifecycle/lifecycle.job.ts';
import { startLifecycleScheduler } from '../src/modules/lifecycle/lifecycle.scheduler.ts';
import { CATALOG_SCHEMA } from '../src/schema.ts';
import { type Catalog, eventBody, inDays, startCatalog, type TestUser } from './harness.ts';

let catalog: Catalog;
let organizer: TestUser;
const orgId = randomUUID();

beforeAll(async () => {
  catalog = await startCatalog();
  organizer = await catalog.user();
  await catalog.join(organizer, orgId, 'orgAdmin');
});
afterAll(() => catalog?.stop());

/** Creates and publishes an event starting at `startsAt` and lasting `hours`. */
function publishedEvent(startsAt: string, hours = 2) {
  const endsAt = new Date(Date.parse(startsAt) + hours * 3_600_000).toISOString();
  return catalog.publishedEvent(organizer, orgId, { startsAt, endsAt });
}

async function statusOf(id: string) {
  return (await catalog.call(organizer, 'GET', `/v1/events/${id}`)).json().status as string;
}

async function outboxStatusChanges(ids: string[]) {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM outbox
    WHERE routing_key = 'catalog.event_status_changed' AND aggregate_id = ANY(${ids}::text[])
  `.execute(catalog.db);
  return rows[0]?.n ?? 0;
}

describe('scheduled lifecycle', () => {
  it('starts an event at its start time and completes it at its end time', async () => {
    const event = await publishedEvent(inDays(20));
    catalog.clock.set(new Date(Date.parse(event.startsAt) - 1000));
    expect(await catalog.runtime.runLifecycle()).toBe(0);
    expect(await statusOf(event.id)).toBe('upcoming');

    catalog.clock.set(event.startsAt);
    await catalog.runtime.runLifecycle();
    expect(await statusOf(event.id)).toBe('ongoing');
    const [started] = await catalog.eventsAbout(event.id, 'catalog.event_status_changed');
    expect(started?.data).toEqual({ eventId: event.id, orgId, from: 'upcoming', to: 'ongoing' });
    expect(started?.aggregate.version).toBe(3);

    catalog.clock.set(event.endsAt);
    await catalog.runtime.runLifecycle();
    expect(await statusOf(event.id)).toBe('completed');
    const changes = await catalog.eventsAbout(event.id, 'catalog.event_status_changed', 2);
    expect(changes.map((e) => [e.data.from, e.data.to])).toEqual([
      ['upcoming', 'ongoing'],
      ['ongoing', 'completed'],
    ]);

    // Nothing left to do: running again changes and publishes nothing.
    expect(await catalog.runtime.runLifecycle()).toBe(0);
    expect(await outboxStatusChanges([event.id])).toBe(2);
  });

  it('moves an event whose start and end both passed through both steps in order', async () => {
    const event = await publishedEvent(inDays(30));
    catalog.clock.set(inDays(1, new Date(event.endsAt)));
    await catalog.runtime.runLifecycle();
    expect(await statusOf(event.id)).toBe('completed');
    const changes = await catalog.eventsAbout(event.id, 'catalog.event_status_changed', 2);
    expect(changes.map((e) => [e.data.to, e.aggregate.version])).toEqual([
      ['ongoing', 3],
      ['completed', 4],
    ]);
  });

  it('never moves drafts or cancelled events', async () => {
    catalog.clock.set(new Date());
    const draft = (
      await catalog.call(organizer, 'POST', `/v1/orgs/${orgId}/events`, eventBody())
    ).json();
    const cancelled = await publishedEvent(inDays(10));
    await catalog.call(organizer, 'POST', `/v1/events/${cancelled.id}/cancel`, { reason: 'r' });
    catalog.clock.set(inDays(400));
    await catalog.runtime.runLifecycle();
    expect(await statusOf(draft.id)).toBe('draft');
    expect(await statusOf(cancelled.id)).toBe('cancelled');
  });

  it('makes every transition exactly once when two replicas run the job at the same time', async () => {
    catalog.clock.set(new Date());
    const start = inDays(50);
    const events = await Promise.all(Array.from({ length: 30 }, () => publishedEvent(start)));
    const ids = events.map((e) => e.id);
    // A second replica: its own pool on the same database.
    const replica = createDb<CatalogDatabase>({
      connectionString: catalog.postgresUrl,
      schema: CATALOG_SCHEMA,
    });
    try {
      const startedAt = new Date(Date.parse(start) + 60_000);
      const [a, b] = await Promise.all([
        runLifecycle(catalog.db, startedAt, { batch: 7 }),
        runLifecycle(replica, startedAt, { batch: 7 }),
      ]);
      expect(a + b).toBe(30);

      const endedAt = new Date(Date.parse(start) + 3 * 3_600_000);
      const [c, d] = await Promise.all([
        runLifecycle(replica, endedAt, { batch: 7 }),
        runLifecycle(catalog.db, endedAt, { batch: 7 }),
      ]);
      expect(c + d).toBe(30);
    } finally {
      await replica.destroy();
    }
    expect(await outboxStatusChanges(ids)).toBe(60);
    catalog.runtime.wake();
    for (const id of ids) {
      const changes = await catalog.eventsAbout(id, 'catalog.event_status_changed', 2);
      expect(changes.map((e) => e.data.to)).toEqual(['ongoing', 'completed']);
    }
  });

  it('runs on its own every interval', async () => {
    catalog.clock.set(new Date());
    const event = await publishedEvent(inDays(60));
    catalog.clock.set(event.startsAt);
    const scheduler = startLifecycleScheduler({
      db: catalog.db,
      clock: catalog.clock.now,
      intervalMs: 100,
      logger: pino({ level: 'silent' }),
      onTransitions: catalog.runtime.wake,
    });
    try {
      await eventually(async () => (await statusOf(event.id)) === 'ongoing', {
        what: 'the scheduler to start the event',
      });
      await catalog.eventsAbout(event.id, 'catalog.event_status_changed');
    } finally {
      await scheduler.stop();
    }
  });
});
