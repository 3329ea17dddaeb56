import { type Kysely, sql, type Transaction } from 'kysely';
import type { BookingDb } from '../../db/database.ts';
import type { Inventory, Promotion } from '../../redis/inventory.client.ts';
import type { EventRecord } from '../inventory/event-inventory.repository.ts';
import { decide } from './booking.decider.ts';
import { loadForUpdate, loadManyForUpdate } from './booking.repository.ts';
import { type StreamWrite, writeStreams } from './booking.writer.ts';

/** Held by a booking's creating transaction from before its Redis decision until it ends. */
async function lockNewBooking(trx: Kysely<BookingDb>, bookingId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`booking:${bookingId}`}, 0))`.execute(
    trx,
  );
}

type PromotionMeta = { correlationId: string; causationId?: string | undefined };

/**
 * Records the promotions Redis made: one `promoted` history entry and one outbox event each,
 * written after `first` (e.g. the cancellation that released the seats) in one statement.
 * Returns the promoted ids. See `promotionWrites`.
 */
export async function persistPromotions(
  trx: Transaction<BookingDb>,
  inventory: Inventory,
  event: EventRecord,
  promotions: readonly (Promotion & { meta?: PromotionMeta })[],
  meta: PromotionMeta,
  first: readonly StreamWrite[] = [],
): Promise<string[]> {
  const writes = await promotionWrites(trx, inventory, event, promotions);
  await writeStreams(trx, event, [...first, ...writes], meta);
  return writes.map((write) => write.bookingId);
}

/**
 * Decides the promotions Redis made, one `promoted` event each, with the promoted rows locked.
 * A promoted booking Postgres does not hold as waiting (cancelled meanwhile, or its creation
 * failed) gets its seats returned, which may promote the next in line; one Postgres holds as
 * confirmed is skipped (a rebuild promoted it since). A promotion carrying its
 * own `meta` (the cancellation that caused it) is announced with it.
 */
export async function promotionWrites(
  trx: Kysely<BookingDb>,
  inventory: Inventory,
  event: EventRecord,
  promotions: readonly (Promotion & { meta?: PromotionMeta })[],
): Promise<StreamWrite[]> {
  const writes: StreamWrite[] = [];
  let batch = [...promotions];
  while (batch.length > 0) {
    const states = await loadManyForUpdate(
      trx,
      batch.map((promotion) => promotion.bookingId),
    );
    const next: (Promotion & { meta?: PromotionMeta })[] = [];
    for (const promotion of batch) {
      let state = states.get(promotion.bookingId);
      if (!state) {
        // Its creating transaction may still be running: wait for it to end, then look again.
        await lockNewBooking(trx, promotion.bookingId);
        state = (await loadForUpdate(trx, promotion.bookingId))?.state;
      }
      // Confirmed already: a rebuild from Postgres promoted it after Redis made this promotion
      // (Redis takes a booking off its waitlist when it promotes it, and only a rebuild puts it
      // back). The rebuilt Redis holds none of this promotion's seats, so none go back.
      if (state?.status === 'confirmed') continue;
      if (!state || state.status !== 'waiting') {
        const again = await inventory.compensate(event.eventId, {
          bookingId: promotion.bookingId,
          status: 'confirmed',
          seatNumbers: promotion.seatNumbers,
          generation: promotion.generation,
        });
        if (again.kind === 'OK')
          next.push(...again.promotions.map((p) => ({ ...p, meta: promotion.meta })));
        continue;
      }
      const events = decide({ type: 'PromoteBooking', seatNumbers: promotion.seatNumbers }, state);
      writes.push({ bookingId: promotion.bookingId, state, events, meta: promotion.meta });
    }
    batch = next;
  }
  return writes;
}
