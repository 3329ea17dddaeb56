import type { OutboxEnvelope } from '@happening/db';
import { type CompiledQuery, type Kysely, sql } from 'kysely';
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
  trx: Kysely<BookingDb>,
  entries: readonly HistoryEntry[],
  outbox: readonly OutboxEnvelope[],
): Promise<void> {
  if (entries.length === 0) return;
  await trx.executeQuery(appendEventsQuery(trx, entries, outbox));
}

/** `appendEvents` as a statement to send (e.g. with COMMIT); entries must not be empty. */
export function appendEventsQuery(
  db: Kysely<BookingDb>,
  entries: readonly HistoryEntry[],
  outbox: readonly OutboxEnvelope[],
): CompiledQuery {
  const rows = entries.map((entry) => ({
    bookingId: entry.bookingId,
    eventId: entry.eventId,
    version: entry.version,
    action: HISTORY_ACTION[entry.event.type],
    details: entry.event.data,
  }));
  return sql`SELECT append_booking_events(${JSON.stringify(rows)}::jsonb, ${JSON.stringify(outbox)}::jsonb)`.compile(
    db,
  );
}

/** A new booking's `created` entry, as `append_created_bookings` reads it. */
interface CreatedRow {
  bookingId: string;
  created: Extract<BookingEvent, { type: 'BookingCreated' }>;
}

/**
 * New bookings' whole write in one statement (`append_created_bookings`, migration
 * `20250604000000`): each one's `created` history entry, `bookings` row and `booking_seats` rows,
 * in order, then the outbox rows. It is the transaction's last statement: COMMIT goes out with
 * it. Returns each booking's row timestamps, in the order given.
 */
export async function appendCreated(
  tx: PipelinedTransaction,
  rows: readonly CreatedRow[],
  outbox: readonly OutboxEnvelope[],
): Promise<{ createdAt: Date; updatedAt: Date }[]> {
  const bookings = rows.map(({ bookingId, created }) => ({
    bookingId,
    eventId: created.data.eventId,
    orgId: created.data.orgId,
    userId: created.data.userId,
    seats: created.data.seats,
    status: created.data.status,
    waitingNumber: created.data.waitingNumber,
    details: created.data,
  }));
  const written = await tx.commitWith(
    sql<{
      id: string;
      created_at: Date;
      updated_at: Date;
    }>`SELECT * FROM append_created_bookings(${JSON.stringify(bookings)}::jsonb, ${JSON.stringify(outbox)}::jsonb)`.compile(
      tx.db,
    ),
  );
  const byId = new Map(written.map((row) => [row.id, row]));
  return rows.map(({ bookingId }) => {
    const row = byId.get(bookingId);
    if (!row) throw new Error(`the booking write returned no row for ${bookingId}`);
    return { createdAt: row.created_at, updatedAt: row.updated_at };
  });
}
