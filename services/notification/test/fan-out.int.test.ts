import { randomUUID } from 'node:crypto';
import { MAX_BIND_PARAMETERS } from '@happening/db';
import { withFailingWrites } from '@happening/db/testing';
import { eventually } from '@happening/testkit';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewNotificationRow, NotificationDb } from '../src/database.ts';
import { HOLDERS_PER_CHUNK } from '../src/modules/fan-outs/fan-out.runner.ts';
import { insertNotifications } from '../src/modules/notifications/notification.repository.ts';
import { eventCancelled, eventUpdated } from './events.fixture.ts';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ retryDelaysMs: [200, 400] });
  await sql`CREATE TABLE attempted_inserts (tbl text NOT NULL, value text NOT NULL)`.execute(h.db);
  await sql`
    CREATE FUNCTION record_attempt(tbl text, value text) RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO attempted_inserts VALUES (tbl, value); SELECT true $$`.execute(h.db);
});

afterAll(async () => {
  await h?.stop();
});

describe('fan-out to every holder of an event', () => {
  it('notifies each of thousands of holders, five chunks of them', async () => {
    const eventId = randomUUID();
    const orgId = randomUUID();
    const holders = HOLDERS_PER_CHUNK * 4 + 569;
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

  // A chunk of holders stays far under the limit; storing notifications still must not depend on
  // it (one insert of these rows fails: Postgres takes at most 65,535 bind parameters).
  it('stores more notifications at once than one statement has parameters for', async () => {
    const sourceEventId = randomUUID();
    const row = (i: number): NewNotificationRow => ({
      id: randomUUID(),
      org_id: null,
      user_id: `bulk-${sourceEventId.slice(0, 8)}-${i}`,
      recipient: `bulk-${i}@example.test`,
      event_id: null,
      booking_id: null,
      type: 'event_cancelled',
      channel: 'email',
      locale: 'en',
      template_version: 1,
      subject: 'Cancelled',
      body: 'The event is cancelled.',
      sealed_body: null,
      last_error: null,
      provider_message_id: null,
      source_event_id: sourceEventId,
      correlation_id: sourceEventId,
      sent_at: null,
    });
    const count = Math.ceil(MAX_BIND_PARAMETERS / Object.keys(row(0)).length) + 100;
    const rows = Array.from({ length: count }, (_, i) => row(i));

    const inserted = await h.db.transaction().execute((trx) => insertNotifications(trx, rows));
    expect(inserted.map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(await emailsOf(sourceEventId)).toHaveLength(count);
  });
});

describe('a fan-out to more holders than one chunk', () => {
  // Two whole chunks and part of a third.
  const holders = HOLDERS_PER_CHUNK * 2 + HOLDERS_PER_CHUNK / 2;

  it('commits chunk by chunk, and its redelivery after a failure mid-way goes on after the holder reached', async () => {
    const { eventId, orgId, userIds } = await eventWithHolders(holders);
    const cancellation = eventCancelled(eventId, orgId);
    // The third chunk's first holder: its notice is held at the gate, and the test cuts the held
    // statement off (as a failure or a crash there would), so its chunk fails for certain.
    const failing = userIds[HOLDERS_PER_CHUNK * 2] ?? '';
    const gate = 7_301;
    const retriedBefore = await consumed('retried');
    const committedFirst = await recordingInserts(async () => {
      const committed = await withFailingWrites(
        h.db,
        {
          table: 'notifications',
          on: 'INSERT',
          when: sql`NEW.user_id = ${sql.lit(failing)}`,
          gate,
          passes: true,
        },
        () =>
          holding(h.db, gate, async () => {
            await h.publish(cancellation);
            const firstTwo = await eventually(
              async () => {
                const written = await emailsOf(cancellation.id);
                return written.length >= HOLDERS_PER_CHUNK * 2 && written;
              },
              { what: 'the first two chunks committed while the third is held' },
            );
            const held = await eventually(() => waiterAt(gate), {
              what: "the third chunk's insert held at the gate",
            });
            expect(await reachedBy(cancellation.id)).toBe(userIds[HOLDERS_PER_CHUNK * 2 - 1]);
            // From here on: the held chunk's attempt (rolled back) and the redelivery's.
            await sql`DELETE FROM attempted_inserts`.execute(h.db);
            await sql`SELECT pg_cancel_backend(${held})`.execute(h.db);
            await eventually(async () => (await consumed('retried')) > retriedBefore, {
              what: 'the delivery whose third chunk failed retried',
            });
            return firstTwo;
          }),
      );
      await h.noticed(cancellation.id);
      return committed;
    });
    expect(committedFirst.map((n) => n.user_id)).toEqual(userIds.slice(0, HOLDERS_PER_CHUNK * 2));

    const written = await emailsOf(cancellation.id);
    expect(written.map((n) => n.user_id)).toEqual(userIds);
    // The committed chunks were not written again: the same notifications, each enqueued once.
    expect(written.slice(0, HOLDERS_PER_CHUNK * 2)).toEqual(committedFirst);
    expect(await deliveriesOf(written.map((n) => n.id))).toEqual({
      rows: holders,
      distinct: holders,
    });
    // The redelivery went on after the holder reached: it tried the third chunk's holders only,
    // and as that chunk was the last it recorded no progress. (A redelivery from the first holder
    // attempts no insert of notifications for the first two chunks either, their people having
    // theirs already, but records reaching the end of each again.)
    const attempted = await attemptedInserts();
    expect(attempted.notifications).toEqual(userIds.slice(HOLDERS_PER_CHUNK * 2));
    expect(attempted.fan_outs).toEqual([]);
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
          // The second chunk has decided (under the holders lock) before the cancellation arrives.
          await eventually(() => waitingFor(h.db, sql`${gate}::bigint`), {
            what: "the second chunk's insert held at the gate",
          });
          // Recorded once the held chunk commits: the chunks after it see the cancellation.
          await h.publish(cancellation);
          await eventually(() => waitingFor(h.db, holdersLock(eventId)), {
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
    const gate = 7_303;
    const processedBefore = await consumed('processed');
    const retriedBefore = await consumed('retried');
    // The first holder's notice is held at the gate until all three deliveries are in flight at
    // once: each waits at the gate itself or for the fan-out lock one there holds.
    await withFailingWrites(
      h.db,
      {
        table: 'notifications',
        on: 'INSERT',
        when: sql`NEW.user_id = ${sql.lit(userIds[0] ?? '')}`,
        gate,
        passes: true,
      },
      () =>
        holding(h.db, gate, async () => {
          await h.publish(cancellation, 3);
          await eventually(
            async () =>
              (await waitingFor(h.db, sql`${gate}::bigint`, fanOutLock(cancellation.id))) === 3,
            { what: 'three deliveries of the message in flight at once' },
          );
        }),
    );
    await h.noticed(cancellation.id);
    await eventually(async () => (await consumed('processed')) >= processedBefore + 3, {
      what: 'all three deliveries processed',
    });
    const written = await emailsOf(cancellation.id);
    expect(written.map((n) => n.user_id)).toEqual(userIds);
    expect(await deliveriesOf(written.map((n) => n.id))).toEqual({
      rows: holders,
      distinct: holders,
    });
    // Taking turns chunk by chunk, none failed. Without the fan-out lock they write the same
    // chunks side by side (ON CONFLICT keeps the notices as they are) and collide on the inbox
    // entry at the end, and the losers are retried.
    expect(await consumed('retried')).toBe(retriedBefore);
    expect(
      await h.db
        .selectFrom('fan_outs')
        .selectAll()
        .where('source_event_id', '=', cancellation.id)
        .execute(),
    ).toEqual([]);
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

/** The event's holders lock (`lockEventHolders`) as an advisory lock key. */
const holdersLock = (eventId: string) => sql`hashtextextended(${`holders:${eventId}`}, 0)`;

/** The lock the chunks of a message's fan-out take turns on (`lockFanOut`). */
const fanOutLock = (messageId: string) => sql`hashtextextended(${`fan-out:${messageId}`}, 0)`;

/** The backend of this database waiting for the advisory lock `key` (a gate), if any. */
async function waiterAt(key: number): Promise<number | undefined> {
  const { rows } = await sql<{ pid: number }>`
    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1 AND classid = 0 AND objid = ${key}
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(
    h.db,
  );
  return rows[0]?.pid;
}

/** How many sessions of this database wait for one of the advisory locks `keys` (bigint keys). */
async function waitingFor(
  db: Kysely<NotificationDb>,
  ...keys: RawBuilder<unknown>[]
): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_locks
    WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND (classid::bigint << 32 | objid::bigint) IN (${sql.join(keys)})`.execute(db);
  return rows[0]?.n ?? 0;
}

/** The holder a message's fan-out recorded reaching (`fan_outs`). */
async function reachedBy(messageId: string) {
  const row = await h.db
    .selectFrom('fan_outs')
    .select('reached_user_id')
    .where('source_event_id', '=', messageId)
    .executeTakeFirst();
  return row?.reached_user_id;
}

/** `happening_consumer_messages_total` of the domain events' queue for `outcome`. */
async function consumed(outcome: 'processed' | 'retried'): Promise<number> {
  return (
    (await h.metric('happening_consumer_messages_total', {
      queue: 'notification.events',
      outcome,
    })) ?? 0
  );
}

/**
 * Runs `work` while every insert attempted into `notifications` and `fan_outs` (an upsert's
 * too, whether or not it ends up inserting) records its user id in `attempted_inserts`, and
 * commits there if its transaction does.
 */
async function recordingInserts<T>(work: () => Promise<T>): Promise<T> {
  await sql`DELETE FROM attempted_inserts`.execute(h.db);
  return withFailingWrites(
    h.db,
    {
      table: 'notifications',
      on: 'INSERT',
      when: sql`record_attempt('notifications', NEW.user_id)`,
      passes: true,
    },
    () =>
      withFailingWrites(
        h.db,
        {
          table: 'fan_outs',
          on: 'INSERT',
          when: sql`record_attempt('fan_outs', NEW.reached_user_id)`,
          passes: true,
        },
        work,
      ),
  );
}

/** The user ids `recordingInserts` recorded, by table, in order. */
async function attemptedInserts() {
  const rows = await sql<{ tbl: string; value: string }>`
    SELECT tbl, value FROM attempted_inserts ORDER BY value`.execute(h.db);
  const of = (tbl: string) => rows.rows.filter((r) => r.tbl === tbl).map((r) => r.value);
  return { notifications: of('notifications'), fan_outs: of('fan_outs') };
}
