import { randomUUID } from 'node:crypto';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { BookingDb } from '../src/db/database.ts';

/**
 * Runs `work` while every insert into `table` whose row matches `when` (a condition on `NEW`, all
 * rows when absent) fails inside Postgres, as a write failing after the Redis decision would.
 * With `gate` (an advisory lock key) the failing insert first waits until the gate is free, so a
 * test holding it can act while the write is in flight.
 */
export async function withFailingInserts<T>(
  db: Kysely<BookingDb>,
  table: 'bookings' | 'booking_history',
  when: RawBuilder<unknown> | undefined,
  work: () => Promise<T>,
  gate?: number,
): Promise<T> {
  const name = sql.id(`fail_${randomUUID().replaceAll('-', '')}`);
  const wait =
    gate === undefined ? '' : `PERFORM pg_advisory_xact_lock_shared(${Math.trunc(gate)});`;
  await sql`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN ${sql.raw(wait)} RAISE EXCEPTION 'injected failure'; END $$`.execute(db);
  await sql`
    CREATE TRIGGER ${name} BEFORE INSERT ON ${sql.table(table)} FOR EACH ROW
    ${when ? sql`WHEN (${when})` : sql``} EXECUTE FUNCTION ${name}()`.execute(db);
  try {
    return await work();
  } finally {
    await sql`DROP TRIGGER ${name} ON ${sql.table(table)}`.execute(db);
    await sql`DROP FUNCTION ${name}()`.execute(db);
  }
}
