import { withFailingWrites } from '@happening/db/testing';
import { eventually } from '@happening/testkit';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { BookingDb } from '../src/db/database.ts';

/**
 * Runs `work` while every insert into `table` whose row matches `when` (a condition on `NEW`, all
 * rows when absent) fails inside Postgres, as a write failing after the Redis decision would.
 * With `gate` (an advisory lock key) the failing insert first waits until the gate is free, so a
 * test holding it can act while the write is in flight.
 */
export function withFailingInserts<T>(
  db: Kysely<BookingDb>,
  table: 'bookings' | 'booking_history',
  when: RawBuilder<unknown> | undefined,
  work: () => Promise<T>,
  gate?: number,
): Promise<T> {
  return withFailingWrites(
    db,
    { table, on: 'INSERT', ...(when ? { when } : {}), ...(gate === undefined ? {} : { gate }) },
    work,
  );
}

/** A gate a failing insert waits at (see `withFailingInserts`), held by the test. */
export interface Gate {
  /** The advisory lock key to give `withFailingInserts`. */
  key: number;
  /** Resolves once a write waits at the gate. */
  reached(): Promise<void>;
  /** Lets the writes waiting at the gate go on (and fail). */
  open(): Promise<void>;
}

/** Runs `work` holding a fresh gate on a session of its own; the gate opens at the end anyway. */
export function withGate<T>(db: Kysely<BookingDb>, work: (gate: Gate) => Promise<T>): Promise<T> {
  const key = Math.floor(Math.random() * 1_000_000_000) + 1;
  return db.connection().execute(async (session) => {
    await sql`SELECT pg_advisory_lock(${key})`.execute(session);
    try {
      return await work({
        key,
        reached: async () => {
          await eventually(
            async () => {
              const { rows } = await sql<{ n: string }>`
                SELECT count(*) AS n FROM pg_locks
                WHERE locktype = 'advisory' AND NOT granted AND objid = ${key}`.execute(session);
              return Number(rows[0]?.n) > 0;
            },
            { what: 'a write waiting at the gate' },
          );
        },
        open: async () => {
          await sql`SELECT pg_advisory_unlock(${key})`.execute(session);
        },
      });
    } finally {
      await sql`SELECT pg_advisory_unlock_all()`.execute(session);
    }
  });
}
