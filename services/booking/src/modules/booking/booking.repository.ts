import { type Kysely, sql, type Transaction } from 'kysely';
import type { BookingDb, BookingRow, EventInventoryRow } from '../../db/database.ts';
import { type BookingState, fold } from './booking.decider.ts';
import { eventFromHistory, type HistoryAction } from './booking.events.ts';
import { bookingStatusSchema } from './booking.schemas.ts';

type Db = Kysely<BookingDb> | Transaction<BookingDb>;

export async function findBooking(db: Db, bookingId: string): Promise<BookingRow | undefined> {
  return db.selectFrom('bookings').selectAll().where('id', '=', bookingId).executeTakeFirst();
}

export async function findBookings(db: Db, bookingIds: readonly string[]): Promise<BookingRow[]> {
  if (bookingIds.length === 0) return [];
  return db.selectFrom('bookings').selectAll().where('id', 'in', bookingIds).execute();
}

/** Locks the booking's row and folds its stream: the state a command decides on. */
export async function loadForUpdate(
  trx: Kysely<BookingDb>,
  bookingId: string,
): Promise<{ row: BookingRow; state: BookingState } | undefined> {
  const row = await trx
    .selectFrom('bookings')
    .selectAll()
    .where('id', '=', bookingId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) return undefined;
  const history = await trx
    .selectFrom('booking_history')
    .select(['action', 'details'])
    .where('booking_id', '=', bookingId)
    .orderBy('version')
    .execute();
  return { row, state: fold(history.map((h) => eventFromHistory(h.action, h.details))) };
}

/** A stream as `lock_for_cancel` and `load_bookings_for_update` return it. */
export type HistoryJson = { action: HistoryAction; details: unknown }[] | null;

/** Folds a stream returned as JSON into its state. */
export function foldHistory(history: HistoryJson): BookingState {
  return fold((history ?? []).map((h) => eventFromHistory(h.action, h.details)));
}

/**
 * Locks several bookings' rows (in id order) and folds their streams, in one round trip
 * (`load_bookings_for_update`). Bookings Postgres does not hold are absent from the map.
 */
export async function loadManyForUpdate(
  trx: Kysely<BookingDb>,
  bookingIds: readonly string[],
): Promise<Map<string, BookingState>> {
  const states = new Map<string, BookingState>();
  if (bookingIds.length === 0) return states;
  const { rows } = await sql<{ id: string; history: HistoryJson }>`
    SELECT * FROM load_bookings_for_update(${sql.val(bookingIds)}::uuid[])`.execute(trx);
  for (const row of rows) states.set(row.id, foldHistory(row.history));
  return states;
}

/** An event's inventory row and the caller's active (confirmed or waiting) booking on it. */
export interface EventWithActiveBooking {
  event: EventInventoryRow;
  activeBookingId: string | null;
}

/**
 * The event (as `event_inventory` holds it) with the caller's active booking on it, if any: the
 * checks made before a booking, in one query.
 */
export async function findEventWithActiveBooking(
  db: Db,
  eventId: string,
  userId: string,
): Promise<EventWithActiveBooking | undefined> {
  const row = await db
    .selectFrom('event_inventory')
    .selectAll()
    .select((eb) =>
      eb
        .selectFrom('bookings')
        .select('id')
        .where('event_id', '=', eventId)
        .where('user_id', '=', userId)
        .where('status', 'in', ['confirmed', 'waiting'])
        .limit(1)
        .as('active_booking_id'),
    )
    .where('event_id', '=', eventId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { active_booking_id, ...event } = row;
  return { event, activeBookingId: active_booking_id };
}

export async function findActiveBooking(
  db: Db,
  eventId: string,
  userId: string,
): Promise<BookingRow | undefined> {
  return db
    .selectFrom('bookings')
    .selectAll()
    .where('event_id', '=', eventId)
    .where('user_id', '=', userId)
    .where('status', 'in', ['confirmed', 'waiting'])
    .executeTakeFirst();
}

/**
 * Waiting bookings' places among their events' waiting bookings, by waiting number, as Postgres
 * holds them: the order a rebuild gives the waitlist in Redis. One query for all of them.
 */
export async function waitingPlaces(
  db: Db,
  bookings: readonly Pick<BookingRow, 'id' | 'event_id'>[],
): Promise<Map<string, number>> {
  const places = new Map<string, number>();
  if (bookings.length === 0) return places;
  const ranked = db
    .selectFrom('bookings')
    .select((eb) => [
      'id',
      eb.fn
        .agg<string>('row_number')
        .over((over) => over.partitionBy('event_id').orderBy('waiting_number'))
        .as('place'),
    ])
    .where('event_id', 'in', [...new Set(bookings.map((b) => b.event_id))])
    .where('status', '=', 'waiting')
    .where('waiting_number', 'is not', null);
  const rows = await db
    .selectFrom(ranked.as('ranked'))
    .select(['id', 'place'])
    .where(
      'id',
      'in',
      bookings.map((b) => b.id),
    )
    .execute();
  for (const row of rows) places.set(row.id, Number(row.place));
  return places;
}

/** Booked seat numbers of each booking. */
export async function seatsOf(
  db: Db,
  bookingIds: readonly string[],
): Promise<Map<string, number[]>> {
  const seats = new Map<string, number[]>();
  if (bookingIds.length === 0) return seats;
  const rows = await db
    .selectFrom('booking_seats')
    .select(['booking_id', 'seat_no'])
    .where('booking_id', 'in', bookingIds)
    .where('status', '=', 'booked')
    .orderBy('seat_no')
    .execute();
  for (const row of rows) {
    const list = seats.get(row.booking_id) ?? [];
    list.push(row.seat_no);
    seats.set(row.booking_id, list);
  }
  return seats;
}

/** Seat numbers currently booked at an event, in order, from after `afterSeat`: `limit` + 1 of them, the extra one telling a next page exists. */
export async function bookedSeats(
  db: Db,
  eventId: string,
  page: { limit: number; afterSeat?: number | undefined },
): Promise<number[]> {
  let query = db
    .selectFrom('booking_seats')
    .select('seat_no')
    .where('event_id', '=', eventId)
    .where('status', '=', 'booked');
  if (page.afterSeat !== undefined) query = query.where('seat_no', '>', page.afterSeat);
  const rows = await query
    .orderBy('seat_no')
    .limit(page.limit + 1)
    .execute();
  return rows.map((r) => r.seat_no);
}

export async function historyOf(db: Db, bookingId: string) {
  return db
    .selectFrom('booking_history')
    .select(['version', 'action', 'details', 'occurred_at'])
    .where('booking_id', '=', bookingId)
    .orderBy('version')
    .execute();
}

export type ListFilter = { userId?: string; eventId?: string; status?: BookingRow['status'] };
export type ListPage = { limit: number; after?: { createdAt: string; id: string } | undefined };

// Every status a booking can have: the API's list, which must be exactly the row's (the check
// below fails to compile when either gains or loses one).
const BOOKING_STATUSES = bookingStatusSchema.options satisfies readonly BookingRow['status'][];
true satisfies BookingRow['status'] extends (typeof BOOKING_STATUSES)[number] ? true : false;

/**
 * One page of bookings, newest first, keyset on (created_at, id). Each row carries its
 * `created_at` as Postgres prints it (microseconds kept) for the next cursor: the bookings of
 * one batch share one `created_at`, and a cursor rounded to the millisecond would skip the rest
 * of them.
 */
export async function listBookings(
  db: Db,
  filter: ListFilter,
  page: ListPage,
): Promise<(BookingRow & { created_at_text: string })[]> {
  return listBookingsQuery(db, filter, page).execute();
}

/**
 * The query `listBookings` runs. An event's bookings are in page order in `bookings_event_idx`
 * (event_id, status, created_at, id) only within one status, so without a status filter each
 * status's first `limit` + 1 rows are read from it and only those are merged: reading the event
 * as a whole would fetch and sort all of its bookings for every page. (A caller's bookings need
 * no such help: `bookings_user_idx` is (user_id, created_at, id).)
 */
export function listBookingsQuery(db: Db, filter: ListFilter, page: ListPage) {
  const onePage = (status: BookingRow['status'] | undefined) => {
    let query = db
      .selectFrom('bookings')
      .selectAll()
      .select(sql<string>`created_at::text`.as('created_at_text'));
    if (filter.userId) query = query.where('user_id', '=', filter.userId);
    if (filter.eventId) query = query.where('event_id', '=', filter.eventId);
    if (status) query = query.where('status', '=', status);
    const after = page.after;
    if (after) {
      query = query.where((eb) =>
        eb(
          eb.refTuple('created_at', 'id'),
          '<',
          eb.tuple(sql<Date>`${after.createdAt}::timestamptz`, after.id),
        ),
      );
    }
    return query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit + 1);
  };
  if (!filter.eventId || filter.status) return onePage(filter.status);
  const [first, ...others] = BOOKING_STATUSES.map((status) =>
    db.selectFrom(onePage(status).as('of_status')).selectAll(),
  );
  const union = others.reduce((merged, next) => merged.unionAll(next), first!);
  return db
    .selectFrom(union.as('page'))
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
}
