import type { OutboxEnvelope } from '@happening/db';
import type { Kysely, Transaction } from 'kysely';
import type { BookingDb } from '../../db/database.ts';
import { type BookingEvent, HISTORY_ACTION } from './booking.events.ts';

type Db = Kysely<BookingDb> | Transaction<BookingDb>;

/**
 * Appends `events` to a booking's stream after `version` and updates `bookings` and
 * `booking_seats` from them. The (booking_id, version) key makes a concurrent writer fail.
 */
export async function appendAndProject(
  trx: Db,
  stream: { bookingId: string; eventId: string; version: number },
  events: readonly BookingEvent[],
): Promise<number> {
  let version = stream.version;
  for (const event of events) {
    version += 1;
    await trx
      .insertInto('booking_history')
      .values({
        booking_id: stream.bookingId,
        event_id: stream.eventId,
        version,
        action: HISTORY_ACTION[event.type],
        details: JSON.stringify(event.data),
      })
      .execute();
    await project(trx, stream.bookingId, version, event);
  }
  return version;
}

async function project(trx: Db, bookingId: string, version: number, event: BookingEvent) {
  switch (event.type) {
    case 'BookingCreated': {
      const d = event.data;
      await trx
        .insertInto('bookings')
        .values({
          id: bookingId,
          event_id: d.eventId,
          org_id: d.orgId,
          user_id: d.userId,
          seats: d.seats,
          status: d.status,
          waiting_number: d.waitingNumber,
          cancelled_reason: null,
          version,
        })
        .execute();
      await bookSeats(trx, bookingId, d.eventId, d.seatNumbers);
      return;
    }
    case 'BookingCancelled': {
      const row = await trx
        .updateTable('bookings')
        .set({ status: 'cancelled', cancelled_reason: event.data.reason, version })
        .where('id', '=', bookingId)
        .returning('event_id')
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('booking_seats')
        .set({ status: 'released' })
        .where('booking_id', '=', bookingId)
        .where('event_id', '=', row.event_id)
        .where('status', '=', 'booked')
        .execute();
      return;
    }
    case 'BookingPromoted': {
      const row = await trx
        .updateTable('bookings')
        .set({ status: 'confirmed', version })
        .where('id', '=', bookingId)
        .returning('event_id')
        .executeTakeFirstOrThrow();
      await bookSeats(trx, bookingId, row.event_id, event.data.seatNumbers);
      return;
    }
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}

async function bookSeats(trx: Db, bookingId: string, eventId: string, seats: readonly number[]) {
  if (seats.length === 0) return;
  await trx
    .insertInto('booking_seats')
    .values(
      seats.map((seat_no) => ({
        booking_id: bookingId,
        event_id: eventId,
        seat_no,
        status: 'booked' as const,
      })),
    )
    .execute();
}

/**
 * A new booking's whole write in one statement (one round trip on the hot path): its `created`
 * history entry, the `bookings` row, its `booking_seats` rows and the outbox rows, as
 * data-modifying CTEs. Same rows as `appendAndProject` + `enqueueEvents`; the foreign key from
 * seats to the booking is checked at the end of the statement. Returns the row's timestamps.
 */
export async function appendCreated(
  trx: Transaction<BookingDb>,
  bookingId: string,
  created: Extract<BookingEvent, { type: 'BookingCreated' }>,
  outbox: readonly OutboxEnvelope[],
): Promise<{ createdAt: Date; updatedAt: Date }> {
  const d = created.data;
  const seatRows = d.seatNumbers.map((seat_no) => ({
    booking_id: bookingId,
    event_id: d.eventId,
    seat_no,
    status: 'booked' as const,
  }));
  const base = trx
    .with('history', (db) =>
      db
        .insertInto('booking_history')
        .values({
          booking_id: bookingId,
          event_id: d.eventId,
          version: 1,
          action: HISTORY_ACTION[created.type],
          details: JSON.stringify(d),
        })
        .returning('position'),
    )
    .with('booking', (db) =>
      db
        .insertInto('bookings')
        .values({
          id: bookingId,
          event_id: d.eventId,
          org_id: d.orgId,
          user_id: d.userId,
          seats: d.seats,
          status: d.status,
          waiting_number: d.waitingNumber,
          cancelled_reason: null,
          version: 1,
        })
        .returning(['created_at', 'updated_at']),
    )
    .with('outbox_rows', (db) =>
      db
        .insertInto('outbox')
        .values(
          outbox.map((envelope) => ({
            message_id: envelope.id,
            routing_key: envelope.type,
            payload: JSON.stringify(envelope),
            headers: JSON.stringify({}),
            aggregate_type: envelope.aggregate.type,
            aggregate_id: envelope.aggregate.id,
          })),
        )
        .returning('id'),
    );
  const row =
    seatRows.length > 0
      ? await base
          .with('seats', (db) =>
            db.insertInto('booking_seats').values(seatRows).returning('seat_no'),
          )
          .selectFrom('booking')
          .select(['created_at', 'updated_at'])
          .executeTakeFirstOrThrow()
      : await base
          .selectFrom('booking')
          .select(['created_at', 'updated_at'])
          .executeTakeFirstOrThrow();
  return { createdAt: row.created_at, updatedAt: row.updated_at };
}
