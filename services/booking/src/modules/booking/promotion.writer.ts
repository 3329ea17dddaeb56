import { sql, type Transaction } from 'kysely';
import type { BookingDb } from '../../db/database.ts';
import type { Inventory, Promotion } from '../../redis/inventory.client.ts';
import type { EventRecord } from '../inventory/event-inventory.repository.ts';
import { decide } from './booking.decider.ts';
import { loadForUpdate } from './booking.repository.ts';
import { writeStream } from './booking.writer.ts';

/** Held by a booking's creating transaction from before its Redis decision until it ends. */
export async function lockNewBooking(
  trx: Transaction<BookingDb>,
  bookingId: string,
): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`booking:${bookingId}`}, 0))`.execute(
    trx,
  );
}

/**
 * Records the promotions Redis made: one `promoted` history entry and one outbox event each.
 * A promoted booking Postgres does not hold as waiting (cancelled meanwhile, or its creation
 * failed) gets its seats returned, which may promote the next in line.
 */
export async function persistPromotions(
  trx: Transaction<BookingDb>,
  inventory: Inventory,
  event: EventRecord,
  promotions: readonly Promotion[],
  meta: { correlationId: string; causationId?: string | undefined },
): Promise<string[]> {
  const queue = [...promotions];
  const promoted: string[] = [];
  while (queue.length > 0) {
    const promotion = queue.shift()!;
    let loaded = await loadForUpdate(trx, promotion.bookingId);
    if (!loaded) {
      // Its creating transaction may still be running: wait for it to end, then look again.
      await lockNewBooking(trx, promotion.bookingId);
      loaded = await loadForUpdate(trx, promotion.bookingId);
    }
    if (!loaded || loaded.state.status !== 'waiting') {
      const again = await inventory.release(event.eventId, {
        bookingId: promotion.bookingId,
        status: 'confirmed',
        seatNumbers: promotion.seatNumbers,
      });
      if (again.kind === 'OK') queue.push(...again.promotions);
      continue;
    }
    const events = decide(
      { type: 'PromoteBooking', seatNumbers: promotion.seatNumbers },
      loaded.state,
    );
    await writeStream(trx, {
      bookingId: promotion.bookingId,
      event,
      state: loaded.state,
      events,
      meta,
    });
    promoted.push(promotion.bookingId);
  }
  return promoted;
}
