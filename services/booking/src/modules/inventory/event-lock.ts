import { DomainError } from '@happening/service-kit';
import { sql, type Transaction } from 'kysely';
import type { BookingDb } from '../../db/database.ts';

/**
 * Per-event transaction-scoped advisory locks. Booking and cancelling hold the event lock shared
 * from before their Redis decision until their commit; a rebuild takes it exclusively, so it
 * waits for in-flight decisions to land in Postgres and none start while it rebuilds.
 */
const eventKey = (eventId: string) => sql`hashtextextended(${`inventory:${eventId}`}, 0)`;
const releaseKey = (eventId: string) => sql`hashtextextended(${`release:${eventId}`}, 0)`;

export const REBUILDING_CODE = 'EVENT_INVENTORY_REBUILDING';

/** Shared event lock; waits up to `waitMs`, then answers 503 with Retry-After. */
export async function lockEventShared(
  trx: Transaction<BookingDb>,
  eventId: string,
  waitMs: number,
): Promise<void> {
  await sql`SELECT set_config('lock_timeout', ${`${waitMs}ms`}, true)`.execute(trx);
  try {
    await sql`SELECT pg_advisory_xact_lock_shared(${eventKey(eventId)})`.execute(trx);
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') {
      throw new DomainError(
        REBUILDING_CODE,
        503,
        'The event inventory is being rebuilt; retry shortly.',
        {
          retryAfterSeconds: 1,
        },
      );
    }
    throw error;
  }
  await sql`SELECT set_config('lock_timeout', '0', true)`.execute(trx);
}

/**
 * What a new booking's transaction takes before its Redis decision: the event lock shared and
 * the booking's own id lock (see `lockNewBooking`). One round trip when no rebuild holds the
 * event (the try succeeds at once); otherwise it waits like `lockEventShared`. Nobody waits on
 * the fresh booking id before its Redis decision, so holding it first cannot deadlock.
 */
export async function lockForNewBooking(
  trx: Transaction<BookingDb>,
  eventId: string,
  bookingId: string,
  waitMs: number,
): Promise<void> {
  const { rows } = await sql<{ shared: boolean }>`
    SELECT pg_try_advisory_xact_lock_shared(${eventKey(eventId)}) AS shared,
      pg_advisory_xact_lock(hashtextextended(${`booking:${bookingId}`}, 0)) AS own`.execute(trx);
  if (!rows[0]?.shared) await lockEventShared(trx, eventId, waitMs);
}

/** Exclusive event lock for a rebuild of the event's Redis keys. */
export async function lockEventExclusive(
  trx: Transaction<BookingDb>,
  eventId: string,
): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${eventKey(eventId)})`.execute(trx);
}

/**
 * Serialises whatever releases seats and promotes on one event (cancellations, compensations),
 * so two promotions of one event never race each other into Postgres.
 */
export async function lockEventReleases(
  trx: Transaction<BookingDb>,
  eventId: string,
): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${releaseKey(eventId)})`.execute(trx);
}
