/**
 * Measures the fan-out of one event update to many holders as the domain-event consumer handles
 * it: how long the whole takes, the longest transaction open meanwhile, how long a booking of
 * that event waits to be projected (its holders lock) while it runs, the longest stall of the
 * event loop, and how much a redelivery does after a failure near the end. Run:
 * `npx tsx scripts/fan-out-bench.ts [holders] [cancel]` (50,000 holders by default; `cancel`
 * measures the event's cancellation instead) on a throwaway local Postgres.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createSealedBox, type DomainEvent } from '@happening/contracts';
import { createDb, handleOnce, migrateToLatest } from '@happening/db';
import { withFailingWrites } from '@happening/db/testing';
import { startPostgres } from '@happening/testkit';
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import type { NotificationDb } from '../src/database.ts';
import { projectEventHolders } from '../src/modules/event-holders/event-holder.projection.ts';
import { projectEventVersions } from '../src/modules/event-versions/event-version.projection.ts';
import {
  domainEventHandler,
  PROJECTIONS_CONSUMER,
} from '../src/modules/inbound/domain-event.handler.ts';
import { createTemplateRenderer } from '../src/modules/templates/template.renderer.ts';
import { DB_SCHEMA, MIGRATIONS_FOLDER } from '../src/schema.ts';
import { eventCancelled, eventUpdated } from '../test/events.fixture.ts';

const holders = Number(process.argv[2] ?? 50_000);
const kind = process.argv[3] === 'cancel' ? 'cancel' : 'update';
const server = await startPostgres();
const db = createDb<NotificationDb>({ connectionString: server.url, schema: DB_SCHEMA });
await migrateToLatest({ db, schema: DB_SCHEMA, migrationsFolder: MIGRATIONS_FOLDER });
const handle = domainEventHandler(db, {
  renderer: createTemplateRenderer(),
  sealedBox: createSealedBox(randomBytes(32)),
  inviteLinks: createSealedBox(randomBytes(32)),
  channels: new Set(['email']),
  logger: pino({ level: 'silent' }),
  waitingNoticeExpiryMs: 7 * 24 * 3_600_000,
});

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  return c;
}

/** An event with `holders` holders, every one of them known. */
async function seedEvent(): Promise<{ eventId: string; orgId: string }> {
  const eventId = randomUUID();
  const orgId = randomUUID();
  const prefix = eventId.slice(0, 8);
  await sql`
    INSERT INTO recipients (user_id, email, name)
    SELECT ${prefix} || '-' || g, ${prefix} || '-' || g || '@example.test', 'Fan ' || g
    FROM generate_series(1, ${holders}) g`.execute(db);
  await sql`
    INSERT INTO event_holders (booking_id, event_id, org_id, user_id, status, booking_version)
    SELECT gen_random_uuid(), ${eventId}, ${orgId}, ${prefix} || '-' || g, 'confirmed', 1
    FROM generate_series(1, ${holders}) g`.execute(db);
  await sql`VACUUM ANALYZE`.execute(db);
  return { eventId, orgId };
}

/**
 * Runs `work` while sampling, from two other sessions, the oldest open transaction and how long
 * taking the event's holders lock (as a booking's projection does) waits.
 */
async function observed(eventId: string, work: () => Promise<void>) {
  const sampler = await client();
  const booker = await client();
  let running = true;
  let longestTransactionMs = 0;
  let longestLockWaitMs = 0;
  const sampling = (async () => {
    while (running) {
      const { rows } = await sampler.query<{ ms: number | null }>(
        `SELECT max(extract(epoch FROM clock_timestamp() - xact_start)) * 1000 AS ms
         FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> $1
           AND xact_start IS NOT NULL`,
        [(booker as unknown as { processID: number }).processID],
      );
      longestTransactionMs = Math.max(longestTransactionMs, Number(rows[0]?.ms ?? 0));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const booking = (async () => {
    while (running) {
      // Timed by the server, from the statement's arrival to the lock's grant: the fan-out's
      // rendering may stall this process's event loop meanwhile.
      await booker.query('BEGIN');
      const { rows } = await booker.query<{ ms: number }>(
        `SELECT extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000 AS ms
         FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) AS locked`,
        [`holders:${eventId}`],
      );
      await booker.query('COMMIT');
      longestLockWaitMs = Math.max(longestLockWaitMs, Number(rows[0]?.ms ?? 0));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const wal = async () =>
    (await sampler.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]
      ?.lsn ?? '0/0';
  const walBefore = await wal();
  const started = performance.now();
  let error: unknown;
  try {
    await work();
  } catch (e) {
    error = e;
  }
  const totalMs = performance.now() - started;
  running = false;
  loopDelay.disable();
  await Promise.all([sampling, booking]);
  const { rows } = await sampler.query<{ bytes: string }>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS bytes`,
    [walBefore],
  );
  await Promise.all([sampler.end(), booker.end()]);
  return {
    totalMs: Math.round(totalMs),
    longestTransactionMs: Math.round(longestTransactionMs),
    longestHoldersLockWaitMs: Math.round(longestLockWaitMs),
    longestEventLoopStallMs: Math.round(loopDelay.max / 1e6),
    walMB: Math.round(Number(rows[0]?.bytes) / 1e5) / 10,
    failed: error !== undefined,
  };
}

async function written(sourceEventId: string): Promise<number> {
  const row = await db
    .selectFrom('notifications')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('source_event_id', '=', sourceEventId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The notice measured: an event's update, or with `cancel` its cancellation. */
const notice = (eventId: string, orgId: string): DomainEvent =>
  kind === 'cancel' ? eventCancelled(eventId, orgId) : eventUpdated(eventId, orgId);

/** The update handled once: its projections first (not measured), then its fan-out. */
async function oneFanOut() {
  const { eventId, orgId } = await seedEvent();
  const update = notice(eventId, orgId);
  await projectOnly(update);
  const run = await observed(eventId, () => handle(update));
  return { ...run, written: await written(update.id) };
}

/**
 * The update's fan-out failing at the holder 90% of the way through (the holders are taken in
 * `user_id` order), then handled again as its redelivery would be.
 */
async function failedThenRedelivered() {
  const { eventId, orgId } = await seedEvent();
  const update = notice(eventId, orgId);
  await projectOnly(update);
  const ids = await sql<{ user_id: string }>`
    SELECT user_id FROM event_holders WHERE event_id = ${eventId} ORDER BY user_id`.execute(db);
  const failAt = ids.rows[Math.floor(holders * 0.9)]?.user_id ?? '';
  const first = await withFailingWrites(
    db,
    { table: 'notifications', on: 'INSERT', when: sql`NEW.user_id = ${sql.lit(failAt)}` },
    () => observed(eventId, () => handle(update)),
  );
  const committedBeforeRedelivery = await written(update.id);
  const redelivery = await observed(eventId, () => handle(update));
  return {
    firstAttempt: first,
    committedBeforeRedelivery,
    redelivery,
    written: await written(update.id),
  };
}

/** Handles only the event's projections (as the consumer does first), so a run is its fan-out. */
async function projectOnly(update: DomainEvent): Promise<void> {
  await handleOnce(db, { consumer: PROJECTIONS_CONSUMER, messageId: update.id }, async (trx) => {
    await projectEventHolders(trx, update);
    await projectEventVersions(trx, update);
  });
}

try {
  console.log(JSON.stringify({ holders, kind, oneFanOut: await oneFanOut() }, null, 2));
  console.log(
    JSON.stringify(
      { holders, kind, failedThenRedelivered: await failedThenRedelivered() },
      null,
      2,
    ),
  );
} finally {
  await db.destroy();
  await server.stop();
}
