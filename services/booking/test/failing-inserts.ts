import { withFailingWrites } from '@happening/db/testing';
import type { Kysely, RawBuilder } from 'kysely';
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
