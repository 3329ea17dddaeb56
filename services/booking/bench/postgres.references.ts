import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createDb } from '@happening/db';
import { sql } from 'kysely';
import pg from 'pg';
import type { BookingDb } from '../src/db/database.ts';
import { BOOKING_SCHEMA, migrateBooking } from '../src/schema.ts';

const run = promisify(execFile);

export interface ReferenceResult {
  /** Committed transactions per second (pgbench, excluding connection time). */
  tps: number;
  /** Mean transaction latency in ms as pgbench reports it. */
  latencyMs: number;
  transactions: number;
  failed: number;
}

/** A reference's figures and how long its run took (longer than asked when one was repeated). */
export type MeasuredReference = ReferenceResult & { seconds: number };

const PGBENCH_DIRS = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/bin'];

/** A booking's history details and outbox envelope, shaped and sized like the service's own. */
const ORG = "'8a6f4c1e-2b7d-4f3a-9c5e-1d2b3c4d5e6f'";
const details = (ev: string) =>
  `jsonb_build_object('bookingId', :id::text, 'eventId', ${ev}::text, 'orgId', ${ORG}, 'userId', :id::text, 'seats', :seats::int, 'status', 'confirmed', 'seatNumbers', jsonb_build_array(1, 2), 'waitingNumber', NULL, 'acceptedSeq', :r::bigint)`;
const envelope = (ev: string) =>
  `jsonb_build_object('id', :id::text, 'type', 'booking.booking_confirmed', 'version', 1, 'source', 'booking', 'occurredAt', now(), 'correlationId', 'bench', 'orgId', ${ORG}, 'aggregate', jsonb_build_object('type', 'booking', 'id', :id::text, 'version', 1), 'data', ${details(ev)})`;

/** The inserts of one confirmed booking: history, projection rows, seats and outbox row. */
function bookingInserts(ev: string, seatFrom: string): string {
  return [
    `INSERT INTO booking_history (booking_id, event_id, version, action, details) VALUES (:id::uuid, ${ev}::uuid, 1, 'created', ${details(ev)});`,
    `INSERT INTO bookings (id, event_id, org_id, user_id, seats, status, version) VALUES (:id::uuid, ${ev}::uuid, ${ORG}, :id::text, :seats::int, 'confirmed', 1);`,
    `INSERT INTO booking_seats (booking_id, event_id, seat_no, status) SELECT :id::uuid, ${ev}::uuid, s, 'booked' FROM generate_series(${seatFrom}::int, ${seatFrom}::int + :seats::int - 1) s;`,
    `INSERT INTO outbox (message_id, routing_key, payload, aggregate_type, aggregate_id) VALUES (:id::text, 'booking.booking_confirmed', ${envelope(ev)}, 'booking', :id::text);`,
  ].join('\n');
}

// pgbench has no uuid generator: ids come from md5 of the client id and a 63-bit random number.
const IDS = [
  '\\set r random(1, 9223372036854775807)',
  '\\set seats random(1, 4)',
  "SELECT md5(:client_id::text || '-' || :r::text)::uuid AS id, md5('event-' || :client_id::text || '-' || :r::text)::uuid AS ev \\gset",
].join('\n');

/** (a) The booking transaction alone: one event per booking, so seats never collide. */
const RAW_TRANSACTION = `${IDS}
BEGIN;
${bookingInserts(':ev', '1')}
COMMIT;
`;

/** (b) Postgres decides: lock the event's counter row, decrement it, insert the booking. */
const ROW_LOCK_TRANSACTION = (eventId: string) => `${IDS}
BEGIN;
SELECT free, next_seat FROM counter_inventory WHERE event_id = '${eventId}' FOR UPDATE \\gset
\\if :free >= :seats
UPDATE counter_inventory SET free = free - :seats::int, next_seat = next_seat + :seats::int WHERE event_id = '${eventId}';
${bookingInserts(`'${eventId}'`, ':next_seat')}
\\endif
COMMIT;
`;

/**
 * Runs both references with pgbench against a scratch database on the same server, migrated
 * with the booking schema (same tables, indexes, rules and triggers as the service's).
 */
export async function measureReferences(options: {
  postgresUrl: string;
  clients: number;
  seconds: number;
}): Promise<{ rawCommit: MeasuredReference; rowLock: MeasuredReference }> {
  const pgbench = PGBENCH_DIRS.map((d) => path.join(d, 'pgbench')).find((p) => fs.existsSync(p));
  if (!pgbench) throw new Error('pgbench not found (install postgresql-contrib)');
  const url = new URL(options.postgresUrl);
  const database = `bench_reference_${process.pid}`;
  const admin = new pg.Client({ connectionString: options.postgresUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.query(`CREATE DATABASE ${database}`);
  url.pathname = `/${database}`;
  const referenceUrl = url.toString();

  const eventId = '00000000-0000-4000-8000-00000000b0b0';
  const db = createDb<BookingDb>({ connectionString: referenceUrl, schema: BOOKING_SCHEMA });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booking-bench-'));
  try {
    await migrateBooking(db);
    await sql`CREATE TABLE counter_inventory (event_id uuid PRIMARY KEY, free integer NOT NULL, next_seat integer NOT NULL)`.execute(
      db,
    );
    await sql`INSERT INTO counter_inventory VALUES (${eventId}, 2000000000, 1)`.execute(db);
    const raw = path.join(dir, 'raw.sql');
    const rowLock = path.join(dir, 'row-lock.sql');
    fs.writeFileSync(raw, RAW_TRANSACTION);
    fs.writeFileSync(rowLock, ROW_LOCK_TRANSACTION(eventId));
    const bench = async (script: string) => {
      // A short run on a busy machine can spend its whole time connecting its clients and
      // commit nothing (pgbench then prints no tps): measured again for twice as long.
      for (
        let seconds = options.seconds;
        ;
        seconds = Math.min(seconds * 2, MAX_REFERENCE_SECONDS)
      ) {
        const { stdout } = await run(
          pgbench,
          [
            '--no-vacuum',
            '--protocol=prepared',
            `--client=${options.clients}`,
            '--jobs=2',
            `--time=${seconds}`,
            `--file=${script}`,
            `${referenceUrl}${referenceUrl.includes('?') ? '&' : '?'}options=-csearch_path%3D${BOOKING_SCHEMA}`,
          ],
          { maxBuffer: 16 * 1024 * 1024 },
        );
        const result = parsePgbench(stdout);
        if (result || seconds >= MAX_REFERENCE_SECONDS) {
          if (!result) throw new Error(`pgbench committed nothing in ${seconds} s:\n${stdout}`);
          return { ...result, seconds };
        }
      }
    };
    return { rawCommit: await bench(raw), rowLock: await bench(rowLock) };
  } finally {
    await db.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Longest a reference run is stretched to when shorter ones committed nothing. */
const MAX_REFERENCE_SECONDS = 60;

/**
 * Reads tps, mean latency and transaction counts from pgbench's summary; undefined when the run
 * committed nothing (pgbench then prints no tps).
 */
export function parsePgbench(stdout: string): ReferenceResult | undefined {
  if (/number of transactions actually processed: 0\b/.test(stdout)) return undefined;
  const figure = (pattern: RegExp) => {
    const match = pattern.exec(stdout);
    if (!match) throw new Error(`pgbench output lacks ${pattern}:\n${stdout}`);
    return Number(match[1]);
  };
  return {
    tps: figure(/tps = ([\d.]+) \(without initial connection time\)/),
    latencyMs: figure(/latency average = ([\d.]+) ms/),
    transactions: figure(/number of transactions actually processed: (\d+)/),
    failed: /number of failed transactions: (\d+)/.exec(stdout)?.[1]
      ? Number(/number of failed transactions: (\d+)/.exec(stdout)![1])
      : 0,
  };
}
