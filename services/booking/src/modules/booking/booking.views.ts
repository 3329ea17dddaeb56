import type { BookingContext } from '../../context.ts';
import type { BookingRow } from '../../db/database.ts';
import { seatsOf, waitingPlace } from './booking.repository.ts';
import type { BookingView } from './booking.schemas.ts';

/**
 * A waiting booking's live place in its event's waitlist, from Redis; from Postgres when Redis has
 * no waitlist for the event (its keys dropped at completion, or lost until the next rebuild).
 */
async function positionOf(ctx: BookingContext, row: BookingRow): Promise<number | null> {
  const live = await ctx.inventory.waitlistPosition(row.event_id, row.id);
  if (live !== null || row.waiting_number === null) return live;
  return waitingPlace(ctx.db, row.event_id, row.waiting_number);
}

/** Rows → API views, with booked seats and the live waitlist position. */
export async function toViews(
  ctx: BookingContext,
  rows: readonly BookingRow[],
): Promise<BookingView[]> {
  const seats = await seatsOf(
    ctx.db,
    rows.filter((r) => r.status === 'confirmed').map((r) => r.id),
  );
  return Promise.all(
    rows.map(async (row) => ({
      id: row.id,
      eventId: row.event_id,
      userId: row.user_id,
      seats: row.seats,
      status: row.status,
      seatNumbers: seats.get(row.id) ?? [],
      waitingNumber: row.waiting_number,
      waitlistPosition: row.status === 'waiting' ? await positionOf(ctx, row) : null,
      cancelledReason: row.cancelled_reason,
      version: row.version,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    })),
  );
}
