import type { Kysely } from 'kysely';
import type { BookingContext } from '../../context.ts';
import type { BookingDb, BookingRow } from '../../db/database.ts';
import { seatsOf, waitingPlaces } from './booking.repository.ts';
import type { BookingView } from './booking.schemas.ts';

/**
 * Each waiting booking's live place in its event's waitlist, from Redis; from Postgres (one query
 * for all of them) when Redis has no waitlist for the event (its keys dropped at completion, or
 * lost until the next rebuild).
 */
async function positionsOf(
  ctx: BookingContext,
  db: Kysely<BookingDb>,
  rows: readonly BookingRow[],
): Promise<Map<string, number>> {
  const waiting = rows.filter((r) => r.status === 'waiting');
  const live = await Promise.all(
    waiting.map((row) => ctx.inventory.waitlistPosition(row.event_id, row.id)),
  );
  const positions = new Map<string, number>();
  const missing: BookingRow[] = [];
  waiting.forEach((row, i) => {
    const place = live[i];
    if (place !== null && place !== undefined) positions.set(row.id, place);
    else if (row.waiting_number !== null) missing.push(row);
  });
  for (const [id, place] of await waitingPlaces(db, missing)) positions.set(id, place);
  return positions;
}

/** Rows → API views, with booked seats and the live waitlist position. */
export async function toViews(
  ctx: BookingContext,
  rows: readonly BookingRow[],
  db: Kysely<BookingDb> = ctx.db,
): Promise<BookingView[]> {
  const [seats, positions] = await Promise.all([
    seatsOf(
      db,
      rows.filter((r) => r.status === 'confirmed').map((r) => r.id),
    ),
    positionsOf(ctx, db, rows),
  ]);
  return rows.map((row) => ({
    id: row.id,
    eventId: row.event_id,
    userId: row.user_id,
    seats: row.seats,
    status: row.status,
    seatNumbers: seats.get(row.id) ?? [],
    waitingNumber: row.waiting_number,
    waitlistPosition: positions.get(row.id) ?? null,
    cancelledReason: row.cancelled_reason,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }));
}

/**
 * Runs a read of bookings and their views in one snapshot (a read-only REPEATABLE READ
 * transaction), so a cancellation or promotion committing between its statements cannot show a
 * booking confirmed without its seats, or waiting without its place.
 */
export function inOneSnapshot<T>(
  ctx: BookingContext,
  read: (db: Kysely<BookingDb>) => Promise<T>,
): Promise<T> {
  return ctx.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(read);
}
