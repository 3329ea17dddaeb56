import type { BookingContext } from '../../context.ts';
import type { BookingRow } from '../../db/database.ts';
import { seatsOf } from './booking.repository.ts';
import type { BookingView } from './booking.schemas.ts';

/** Rows → API views, with booked seats and the live waitlist position from Redis. */
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
      waitlistPosition:
        row.status === 'waiting'
          ? await ctx.inventory.waitlistPosition(row.event_id, row.id)
          : null,
      cancelledReason: row.cancelled_reason,
      version: row.version,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    })),
  );
}
