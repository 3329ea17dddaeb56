import type { OutboxEnvelope } from '@happening/db';
import { sql, type Transaction } from 'kysely';
import type { BookingDb } from '../../db/database.ts';
import type { PipelinedTransaction } from '../../db/pipelined.transaction.ts';
import { type BookingEvent, HISTORY_ACTION } from './booking.events.ts';

/** One history entry to append: the stream event at `version` of its booking. */
export interface HistoryEntry {
  bookingId: string;
  eventId: string;
  version: number;
  event: BookingEvent;
}

/**
 * Appends `cancelled` and `promoted` history entries in order, updates `bookings` and
 * `booking_seats` after each, and writes the outbox rows: one statement
 * (`append_booking_events`, migration `20250603000000`), whatever the number of entries. The
 * (booking_id, version) key makes a concurrent writer fail.
 */
export async function appendEvents(
  trx: Transaction<BookingDb>,
  entries: readonly HistoryEntry[],
  outbox: readonly OutboxEnvelope[],
): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((entry) => ({
    bookingId: entry.bookingId,
    eventId: entry.eventId,
    version: entry.version,
    action: HISTORY_ACTION[entry.event.type],
    details: entry.event.data,
  }));
  await sql`SELECT append_booking_events(${JSON.stringify(rows)}::jsonb, ${JSON.stringify(outbox)}::jsonb)`.execute(
    trx,
  );
}

/**
 * A new booking's whole write in one statement (one round trip on the hot path): its `created`
 * history entry, the `bookings` row, its `booking_seats` rows and the outbox rows, as
 * data-modifying CTEs. Same rows as a history append plus its outbox row; the foreign key from
 * seats to the booking is checked at the end of the statement. It is the transaction's last
 * statement: COMMIT goes out with it. Returns the row's timestamps.
 */
export async function appendCreated(
  tx: PipelinedTransaction,
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
  const base = tx.db
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
  const query =
    seatRows.length > 0
      ? base
          .with('seats', (db) =>
            db.insertInto('booking_seats').values(seatRows).returning('seat_no'),
          )
          .selectFrom('booking')
          .select(['created_at', 'updated_at'])
      : base.selectFrom('booking').select(['created_at', 'updated_at']);
  const [row] = await tx.commitWith(query.compile());
  if (!row) throw new Error('the booking write returned no row');
  return { createdAt: row.created_at, updatedAt: row.updated_at };
}
