import type { Redis } from 'ioredis';
import { type Kysely, sql } from 'kysely';
import type { BookingDb } from '../src/db/database.ts';
import { projectionsFromHistory } from '../src/modules/booking/booking.rebuild.ts';
import { inventoryKeys } from '../src/redis/inventory.keys.ts';
import type { AuditInput } from './flash-sale.audit.ts';

/** Reads what the audit checks from Postgres and Redis (after the load has stopped). */
export async function loadAuditInput(
  db: Kysely<BookingDb>,
  redis: Redis,
  event: { eventId: string; totalSlots: number; policy: 'fifo' | 'first_fit' },
  acknowledged: AuditInput['acknowledged'],
): Promise<AuditInput> {
  const { eventId } = event;
  const bookings = await db
    .selectFrom('bookings')
    .select(['id', 'status', 'seats', 'waiting_number'])
    .where('event_id', '=', eventId)
    .execute();
  const history = await db
    .selectFrom('booking_history')
    .select([
      'booking_id',
      'action',
      sql<string | null>`details->>'status'`.as('status'),
      sql<number | null>`(details->>'acceptedSeq')::int`.as('seq'),
      sql<number | null>`(details->>'waitingNumber')::int`.as('waiting_number'),
    ])
    .where('event_id', '=', eventId)
    .execute();
  const seats = await db
    .selectFrom('booking_seats')
    .select('seat_no')
    .where('event_id', '=', eventId)
    .where('status', '=', 'booked')
    .execute();
  const keys = inventoryKeys(eventId);
  const [freeSeats, slots, waitlist] = await Promise.all([
    redis.zrange(keys.free, 0, -1),
    redis.get(keys.slots),
    redis.zrange(keys.waitlist, 0, -1),
  ]);

  const replay = await projectionsFromHistory(db);
  const liveBookings = await db.selectFrom('bookings').selectAll().execute();
  const liveSeats = await db.selectFrom('booking_seats').selectAll().execute();
  const canonical = (row: object) =>
    JSON.stringify(Object.entries(row).sort(([a], [b]) => a.localeCompare(b)));

  return {
    totalSlots: event.totalSlots,
    policy: event.policy,
    bookings: bookings.map((b) => ({
      id: b.id,
      status: b.status,
      seats: b.seats,
      waitingNumber: b.waiting_number,
    })),
    created: history
      .filter((h) => h.action === 'created')
      .map((h) => ({
        bookingId: h.booking_id,
        status: h.status === 'waiting' ? 'waiting' : 'confirmed',
        acceptedSeq: Number(h.seq),
        waitingNumber: h.waiting_number,
      })),
    promoted: history.filter((h) => h.action === 'promoted').map((h) => h.booking_id),
    cancelled: history.filter((h) => h.action === 'cancelled').map((h) => h.booking_id),
    bookedSeats: seats.map((s) => s.seat_no),
    redis: { freeSeats: freeSeats.map(Number), slots: Number(slots), waitlist },
    acknowledged,
    projections: {
      live: [...liveBookings, ...liveSeats].map(canonical),
      rebuilt: [...replay.bookings, ...replay.seats].map(canonical),
    },
  };
}
