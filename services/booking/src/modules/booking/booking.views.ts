import type { Kysely } from 'kysely';
import type { BookingContext } from '../../context.ts';
import type { BookingDb, BookingRow } from '../../db/database.ts';
import { seatsOf, waitingPlaces } from './booking.repository.ts';
import type { BookingView } from './booking.schemas.ts';

/**
 * Each waiting booking's live place in its event's waitlist, from Redis; from Postgres (one query
 * for all of them) when Redis holds no place for it (the event's keys dropped at completion or
 * lost until the next rebuild, or the booking promoted by a release not committed yet) or cannot
 * be asked: a booking is read from Postgres, and a Redis failure must not decide whether it is
 * found (a booking whose COMMIT went unanswered is read back this way to learn if it committed).
 */
async function positionsOf(
  ctx: BookingContext,
  rows: readonly BookingRow[],
): Promise<Map<string, number>> {
  const waiting = rows.filter((r) => r.status === 'waiting');
  const live = await Promise.all(
    waiting.map((row) =>
      ctx.inventory.waitlistPosition(row.event_id, row.id).catch((err: unknown) => {
        ctx.logger.warn({ err, eventId: row.event_id }, 'waitlist place read from Postgres');
        return null;
      }),
    ),
  );
  const positions = new Map<string, number>();
  const missing: BookingRow[] = [];
  waiting.forEach((row, i) => {
    const place = live[i];
    if (place !== null && place !== undefined) positions.set(row.id, place);
    else if (row.waiting_number !== null) missing.push(row);
  });
  for (const [id, place] of await waitingPlaces(ctx.db, missing)) positions.set(id, place);
  return positions;
}

const confirmedIds = (rows: readonly BookingRow[]) =>
  rows.filter((r) => r.status === 'confirmed').map((r) => r.id);

function toView(
  row: BookingRow,
  seats: Map<string, number[]>,
  positions: Map<string, number>,
): BookingView {
  return {
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
  };
}

/** Rows → API views, with booked seats and the live waitlist position. */
export async function toViews(
  ctx: BookingContext,
  rows: readonly BookingRow[],
): Promise<BookingView[]> {
  const [seats, positions] = await Promise.all([
    seatsOf(ctx.db, confirmedIds(rows)),
    positionsOf(ctx, rows),
  ]);
  return rows.map((row) => toView(row, seats, positions));
}

/**
 * The views of the bookings `readRows` reads: the rows and their booked seats in one snapshot (a
 * read-only REPEATABLE READ transaction), so a cancellation committing between the two never
 * shows a booking confirmed without its seats; then, with the connection back in the pool, the
 * waiting ones' live places from Redis (a place is live: it moves with every promotion).
 */
export async function readViews(
  ctx: BookingContext,
  readRows: (db: Kysely<BookingDb>) => Promise<readonly BookingRow[]>,
): Promise<BookingView[]> {
  const { rows, seats } = await ctx.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const rows = await readRows(trx);
      return { rows, seats: await seatsOf(trx, confirmedIds(rows)) };
    });
  const positions = await positionsOf(ctx, rows);
  return rows.map((row) => toView(row, seats, positions));
}
