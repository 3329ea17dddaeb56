import { randomUUID } from 'node:crypto';
import { MAX_BIND_PARAMETERS } from '@happening/db';
import { withFailingWrites } from '@happening/db/testing';
import { eventually } from '@happening/testkit';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationDb } from '../src/database.ts';
import { HOLDERS_PER_CHUNK } from '../src/modules/fan-outs/fan-out.runner.ts';
import { eventCancelled, eventUpdated } from './events.fixture.ts';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ retryDelaysMs: [200, 400] });
});

afterAll(async () => {
  await h?.stop();
});

describe('fan-out to every holder of an event', () => {
  it('notifies more holders than one statement has parameters for', async () => {
    const eventId = randomUUID();
    const orgId = randomUUID();
    // More (holder, channel) rows than a single insert of notifications could carry, were they
    // written at once.
    const holders = Math.ceil(MAX_BIND_PARAMETERS / 15) + 200;
    await sql`
      INSERT INTO recipients (user_id, email, name)
      SELECT 'fan-' || g, 'fan-' || g || '@example.test', 'Fan ' || g
      FROM generate_series(1, ${holders}) g`.execute(h.db);
    await sql`
      INSERT INTO event_holders (booking_id, event_id, org_id, user_id, status, booking_version)
      SELECT gen_random_uuid(), ${eventId}, ${orgId}, 'fan-' || g, 'confirmed', 1
      FROM generate_series(1, ${holders}) g`.execute(h.db);

    const cancellation = eventCancelled(eventId, orgId);
    await h.publish(cancellation);
    // Written in chunks: counted once the last one committed.
    await h.noticed(cancellation.id);
    const emails = (await emailsOf(cancellation.id)).length;
    expect(emails).toBe(holders);
  });
});

describe('a fan-out to more holders than one chunk', () => {
  // Two whole chunks and part of a third.
  const holders = HOLDERS_PER_CHUNK * 2 + HOLDERS_PER_CHUNK / 2;

  it('commits chunk by chunk, and its redelivery after a failure mid-way notifies each holder once', async () => {
    const { eventId, orgId, userIds } = await eventWithHolders(holders);
    const cancellation = eventCancelled(eventId, orgId);
    // The third chunk's first holder: its notice is held at the gate, then fails.
    const failing = userIds[HOLDERS_PER_CHUNK * 2] ?? '';
    const gate = 7_301;
    const committedFirst = await withFailingWrites(
      h.db,
      { table: 'notifications', on: 'INSERT', when: sql`NEW.user_id = ${sql.lit(failing)}`, gate },
      () =>
        holding(h.db, gate, async () => {
          await h.publish(cancellation);
          return eventually(
            async () => {
              const written = await emailsOf(cancellation.id);
              return written.length >= HOLDERS_PER_CHUNK * 2 && written;
            },
            { what: 'the first two chunks committed while the third is held' },
          );
        }),
    );
    expect(committedFirst.map((n) => n.user_id)).toEqual(userIds.slice(0, HOLDERS_PER_CHUNK * 2));

    await h.noticed(cancellation.id);
    const written = await emailsOf(cancellation.id);
    expect(written.map((n) => n.user_id)).toEqual(userIds);
    // The committed chunks were not written again: the same notifications, each enqueued once.
    expect(written.slice(0, HOLDERS_PER_CHUNK * 2)).toEqual(committedFirst);
    expect(await deliveriesOf(written.map((n) => n.id))).toEqual({
      rows: holders,
      distinct: holders,
    });
    expect(await h.db.selectFrom('fan_outs').selectAll().execute()).toEqual([]);
  });

  it('tells nothing of an update to the holders after its event is cancelled mid-way', async () => {
    const { eventId, orgId, userIds } = await eventWithHolders(holders);
    const update = eventUpdated(eventId, orgId);
    const cancellation = eventCancelled(eventId, orgId);
    // The second chunk's first holder's notice is held (not failed) at the gate.
    const gate = 7_302;
    await withFailingWrites(
      h.db,
      {
        table: 'notifications',
        on: 'INSERT',
        when: sql`NEW.user_id = ${sql.lit(userIds[HOLDERS_PER_CHUNK] ?? '')}`,
        gate,
        passes: true,
      },
      () =>
        holding(h.db, gate, async () => {
          await h.publish(update);
          await eventually(async () => (await emailsOf(update.id)).length >= HOLDERS_PER_CHUNK, {
            what: 'the first chunk of the update committed',
          });
          // Recorded once the held chunk commits: the chunks after it see the cancellation.
          await h.publish(cancellation);
          await eventually(() => waitingForHoldersLock(h.db, eventId), {
            what: "the cancellation waiting for the held chunk's holders lock",
          });
        }),
    );
    await h.noticed(update.id);
    await h.noticed(cancellation.id);
    const told = await emailsOf(update.id);
    expect(told.map((n) => n.user_id)).toEqual(userIds.slice(0, HOLDERS_PER_CHUNK * 2));
    expect((await emailsOf(cancellation.id)).map((n) => n.user_id)).toEqual(userIds);
  });

  it('notifies each holder once when deliveries of the same message run at once', async () => {
    const { eventId, orgId, userIds } = await eventWithHolders(holders);
    const cancellation = eventCancelled(eventId, orgId);
    await h.publish(cancellation, 3);
    await h.noticed(cancellation.id);
    const written = await emailsOf(cancellation.id);
    expect(written.map((n) => n.user_id)).toEqual(userIds);
    expect(await deliveriesOf(written.map((n) => n.id))).toEqual({
      rows: holders,
      distinct: holders,
    });
  });
});

/** An event with `count` known holders, and their user ids in the order a fan-out takes them. */
async function eventWithHolders(count: number) {
  const eventId = randomUUID();
  const orgId = randomUUID();
  const prefix = eventId.slice(0, 8);
  await sql`
    INSERT INTO recipients (user_id, email, name)
    SELECT ${prefix} || '-' || lpad(g::text, 5, '0'), ${prefix} || '-' || g || '@example.test', 'Fan ' || g
    FROM generate_series(1, ${count}) g`.execute(h.db);
  await sql`
    INSERT INTO event_holders (booking_id, event_id, org_id, user_id, status, booking_version)
    SELECT gen_random_uuid(), ${eventId}, ${orgId}, ${prefix} || '-' || lpad(g::text, 5, '0'), 'confirmed', 1
    FROM generate_series(1, ${count}) g`.execute(h.db);
  const userIds = Array.from(
    { length: count },
    (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`,
  );
  return { eventId, orgId, userIds };
}

/** A source event's email notifications, in their people's order. */
function emailsOf(sourceEventId: string) {
  return h.db
    .selectFrom('notifications')
    .select(['id', 'user_id'])
    .where('source_event_id', '=', sourceEventId)
    .where('channel', '=', 'email')
    .orderBy('user_id')
    .execute();
}

/** How many delivery requests the outbox has for the notifications, and for how many of them. */
async function deliveriesOf(ids: readonly string[]) {
  const { rows } = await sql<{ rows: number; distinct: number }>`
    SELECT count(*)::int AS rows, count(DISTINCT payload->>'notificationId')::int AS distinct
    FROM outbox
    WHERE routing_key = 'notification.deliver' AND payload->>'notificationId' = ANY(${[...ids]}::text[])`.execute(
    h.db,
  );
  return rows[0];
}

/** Runs `work` while a session of its own holds the advisory lock `key` (a failing write's gate). */
function holding<T>(db: Kysely<NotificationDb>, key: number, work: () => Promise<T>): Promise<T> {
  return db.connection().execute(async (session) => {
    await sql`SELECT pg_advisory_lock(${key}::bigint)`.execute(session);
    try {
      return await work();
    } finally {
      await sql`SELECT pg_advisory_unlock(${key}::bigint)`.execute(session);
    }
  });
}

/** Whether a session waits for the event's holders lock (`lockEventHolders`). */
async function waitingForHoldersLock(
  db: Kysely<NotificationDb>,
  eventId: string,
): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_locks
    WHERE locktype = 'advisory' AND NOT granted
      AND (classid::bigint << 32 | objid::bigint) = hashtextextended(${`holders:${eventId}`}, 0)`.execute(
    db,
  );
  return (rows[0]?.n ?? 0) > 0;
}
