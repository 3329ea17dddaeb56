import type { Role } from '@happening/contracts';
import { DomainError } from '@happening/service-kit';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { BookingDb, EventInventoryRow } from '../../db/database.ts';
import type { PipelinedTransaction } from '../../db/pipelined.transaction.ts';
import { visibleBooking } from '../booking/booking.access.ts';
import type { BookingState } from '../booking/booking.decider.ts';
import {
  type EventWithActiveBooking,
  findEventWithActiveBooking,
  foldHistory,
  type HistoryJson,
} from '../booking/booking.repository.ts';
import { visibleEvent } from './event-access.ts';
import { type EventRecord, toEventRecord } from './event-inventory.repository.ts';

/**
 * Per-event transaction-scoped advisory locks. Booking and cancelling hold the event lock shared
 * from before their Redis decision until their commit; a rebuild takes it exclusively, so it
 * waits for in-flight decisions to land in Postgres and none start while it rebuilds.
 */
// The lock functions of the migrations take keys built from the same texts; `lock_for_new_bookings`
// builds them itself from the event id's text form, so ids here are lower case (see the routes).
const eventKey = (eventId: string) => sql`hashtextextended(${`inventory:${eventId}`}, 0)`;
const releaseKey = (eventId: string) => sql`hashtextextended(${`release:${eventId}`}, 0)`;

const REBUILDING_CODE = 'EVENT_INVENTORY_REBUILDING';

/** 503 with Retry-After: the event's inventory is being (or must be) rebuilt. */
export const inventoryRebuilding = () =>
  new DomainError(REBUILDING_CODE, 503, 'The event inventory is being rebuilt; retry shortly.', {
    retryAfterSeconds: 1,
  });

/** Shared event lock; waits up to `waitMs`, then answers 503 with Retry-After. */
export async function lockEventShared(
  trx: Kysely<BookingDb>,
  eventId: string,
  waitMs: number,
): Promise<void> {
  await sql`SELECT set_config('lock_timeout', ${`${waitMs}ms`}, true)`.execute(trx);
  try {
    await sql`SELECT pg_advisory_xact_lock_shared(${eventKey(eventId)})`.execute(trx);
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') throw inventoryRebuilding();
    throw error;
  }
  await sql`SELECT set_config('lock_timeout', '0', true)`.execute(trx);
}

/**
 * What a new booking's transaction does before its Redis decision: the event lock shared, the
 * new booking's id lock, then the event and the caller's active booking read under them. One
 * round trip when no rebuild holds the event (`lock_for_new_booking`, a plpgsql function, keeps
 * that order and reads with a snapshot taken after the locks); otherwise it waits like
 * `lockEventShared` and reads afterwards. Nobody waits on the fresh booking id before its Redis
 * decision, so holding it first cannot deadlock. BEGIN goes out with the lock function's call.
 * Undefined when booking does not know the event.
 */
export async function lockForNewBooking(
  tx: PipelinedTransaction,
  request: { eventId: string; bookingId: string; userId: string },
  waitMs: number,
): Promise<EventWithActiveBooking | undefined> {
  const { eventId, bookingId, userId } = request;
  const rows = await tx.first(
    sql<
      { shared: boolean; active_booking_id: string | null } & Partial<EventInventoryRow>
    >`SELECT * FROM lock_for_new_booking(${`inventory:${eventId}`}, ${`booking:${bookingId}`}, ${eventId}, ${userId})`.compile(
      tx.db,
    ),
  );
  const row = rows[0];
  if (row && !row.shared) {
    // Whoever may not know the event hears so at once, not a 503 that says it exists.
    await visibleEvent(tx.db, eventId, userId);
    await lockEventShared(tx.db, eventId, waitMs);
    return findEventWithActiveBooking(tx.db, eventId, userId);
  }
  if (!row) return undefined;
  const { shared: _shared, active_booking_id, ...event } = row;
  return { event: event as EventInventoryRow, activeBookingId: active_booking_id };
}

/** What a cancellation decides on, read under its locks. */
export interface CancelTarget {
  ownerId: string;
  state: BookingState;
  callerRole: Role | undefined;
  event: EventRecord;
}

/** A row of `lock_for_cancel` or `lock_for_cancels`: the booking and the caller, with the event. */
export type CancelTargetRow = EventInventoryRow & {
  shared: boolean;
  owner_id: string;
  history: HistoryJson;
  caller_role: Role | null;
};

export function toCancelTarget(row: CancelTargetRow): CancelTarget {
  return {
    ownerId: row.owner_id,
    state: foldHistory(row.history),
    callerRole: row.caller_role ?? undefined,
    event: toEventRecord(row),
  };
}

/**
 * What a cancellation's transaction does before its Redis release: the event lock shared, the
 * event's release lock, the booking's row lock, then the booking's owner and stream, the event
 * and the caller's role, read under them. One round trip when no rebuild holds the event
 * (`lock_for_cancel`, a plpgsql function); otherwise it waits like `lockEventShared`, and asks
 * again (the shared lock it then holds is granted again at once). Undefined when the booking or
 * its event is unknown.
 */
export async function lockForCancel(
  trx: Transaction<BookingDb>,
  request: { eventId: string; bookingId: string; callerId: string },
  waitMs: number,
): Promise<CancelTarget | undefined> {
  const { eventId, bookingId, callerId } = request;
  for (let waited = false; ; waited = true) {
    const { rows } =
      await sql<CancelTargetRow>`SELECT * FROM lock_for_cancel(${`inventory:${eventId}`}, ${`release:${eventId}`}, ${eventId}, ${bookingId}, ${callerId})`.execute(
        trx,
      );
    const row = rows[0];
    if (!row) return undefined;
    if (row.shared) return toCancelTarget(row);
    if (waited) throw new Error('event lock not granted after waiting for it');
    // Whoever may not see the booking hears so at once, not a 503 that says it exists.
    await visibleBooking(trx, bookingId, callerId);
    await lockEventShared(trx, eventId, waitMs);
  }
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
