import { type Kysely, sql } from 'kysely';
import type { BookingDb, BookingRow } from '../../db/database.ts';
import { type BookingState, evolve, initialState } from './booking.decider.ts';
import { eventFromHistory } from './booking.events.ts';

export interface SeatRow {
  booking_id: string;
  event_id: string;
  seat_no: number;
  status: 'booked' | 'released';
}

export interface Projections {
  bookings: BookingRow[];
  seats: SeatRow[];
}

/** Replays booking_history through the decider's `evolve` into the rows the projections hold. */
export async function projectionsFromHistory(db: Kysely<BookingDb>): Promise<Projections> {
  const history = await db
    .selectFrom('booking_history')
    .select(['booking_id', 'action', 'details', 'occurred_at'])
    .orderBy('position')
    .execute();
  const streams = new Map<string, { state: BookingState; createdAt: Date; updatedAt: Date }>();
  for (const row of history) {
    const current = streams.get(row.booking_id) ?? {
      state: initialState,
      createdAt: row.occurred_at,
      updatedAt: row.occurred_at,
    };
    current.state = evolve(current.state, eventFromHistory(row.action, row.details));
    current.updatedAt = row.occurred_at;
    streams.set(row.booking_id, current);
  }
  const bookings: BookingRow[] = [];
  const seats: SeatRow[] = [];
  for (const [id, { state, createdAt, updatedAt }] of streams) {
    if (state.status === 'none') continue;
    bookings.push({
      id,
      event_id: state.eventId,
      org_id: state.orgId,
      user_id: state.userId,
      seats: state.seats,
      status: state.status,
      waiting_number: state.waitingNumber,
      cancelled_reason: state.status === 'cancelled' ? state.cancelledReason : null,
      version: state.version,
      created_at: createdAt,
      updated_at: updatedAt,
    });
    const status = state.status === 'confirmed' ? 'booked' : 'released';
    for (const seat_no of state.seatNumbers) {
      seats.push({ booking_id: id, event_id: state.eventId, seat_no, status });
    }
  }
  return { bookings, seats };
}

/** Rebuilds `bookings` and `booking_seats` from the event log, in one transaction. */
export async function rebuildProjections(db: Kysely<BookingDb>): Promise<{ bookings: number }> {
  return db.transaction().execute(async (trx) => {
    // Writers wait while the projections are replaced, so the rebuild sees a closed log.
    await sql`LOCK TABLE bookings, booking_seats, booking_history IN EXCLUSIVE MODE`.execute(trx);
    const { bookings, seats } = await projectionsFromHistory(trx);
    await trx.deleteFrom('booking_seats').execute();
    await trx.deleteFrom('bookings').execute();
    for (let i = 0; i < bookings.length; i += 1000) {
      await trx
        .insertInto('bookings')
        .values(bookings.slice(i, i + 1000))
        .execute();
    }
    for (let i = 0; i < seats.length; i += 2000) {
      await trx
        .insertInto('booking_seats')
        .values(seats.slice(i, i + 2000))
        .execute();
    }
    return { bookings: bookings.length };
  });
}
