import { randomUUID } from 'node:crypto';
import type { BookingContext } from '../../context.ts';
import { countBookings } from '../../metrics/booking.metrics.ts';
import type { ReleaseResult } from '../../redis/inventory.client.ts';
import { inventoryRebuilding, lockForCancel } from '../inventory/event-lock.ts';
import { rebuildForRequest, reconcileEvent } from '../inventory/reconcile.service.ts';
import { bookingNotFound } from './booking.policy.ts';
import { findBooking } from './booking.repository.ts';
import { releaseSeatsOf } from './booking.writer.ts';
import { decideCancellation } from './cancel.policy.ts';
import { recordPromotions } from './new-booking.ts';
import { persistPromotions } from './promotion.writer.ts';

/** A cancellation asked for by `callerId`. */
export interface CancelRequest {
  bookingId: string;
  callerId: string;
  correlationId: string;
  note?: string | undefined;
}

/** Redis lacks the event's keys: rebuild them from Postgres and try again. */
export class CancelInventoryMissing extends Error {}

/**
 * Cancels a booking. Concurrent cancellations of one event share one transaction and one hold of
 * the event's release lock (`cancelBatch`); what a batch leaves to be done alone (an event being
 * rebuilt, keys missing in Redis, a batch that failed) is cancelled here on its own: Postgres
 * first (locks, row lock + stream, so a second cancel changes nothing and frees no seat: one
 * round trip), then one Lua release that promotes per policy, then the promoted rows locked (one
 * round trip) and one statement with the cancellation, each promotion and their outbox events,
 * all in one transaction.
 */
export async function cancelBooking(ctx: BookingContext, input: CancelRequest): Promise<void> {
  const row = await findBooking(ctx.db, input.bookingId);
  if (!row) throw bookingNotFound();
  const batched = await ctx.cancellations.submit({ ...input, eventId: row.event_id });
  if (batched !== 'alone') return;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await attemptCancel(ctx, row.event_id, input);
    } catch (error) {
      if (!(error instanceof CancelInventoryMissing)) throw error;
      // Gone again (a failed rebuild drops them): the client retries later.
      if (attempt > 1) throw inventoryRebuilding();
      await rebuildForRequest(ctx, row.event_id, {
        correlationId: input.correlationId,
        onlyIfMissing: true,
      });
    }
  }
}

async function attemptCancel(
  ctx: BookingContext,
  eventId: string,
  input: CancelRequest,
): Promise<void> {
  let released: ReleaseResult | undefined;
  // Set while Redis has been asked to release: an error then may hide a release that ran.
  let releasing = false;
  let promoted: string[] = [];
  let settling: SettledRelease | undefined;
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const target = await lockForCancel(
        trx,
        { eventId, bookingId: input.bookingId, callerId: input.callerId },
        ctx.settings.rebuildWaitMs,
      );
      if (!target) throw bookingNotFound();
      const decided = decideCancellation(input, target, ctx.now());
      if (!decided) return;
      const { state, events } = decided;
      const token = randomUUID();
      await releaseSeatsOf(trx, { eventId, token }, [{ bookingId: input.bookingId, state }]);
      releasing = true;
      released = await ctx.inventory.release(
        eventId,
        { bookingId: input.bookingId, status: state.status, seatNumbers: state.seatNumbers },
        target.event,
        token,
      );
      if (released.kind === 'MISSING') throw new CancelInventoryMissing();
      if (state.status === 'confirmed') {
        settling = {
          bookingId: input.bookingId,
          seatNumbers: state.seatNumbers,
          totalSlots: target.event.totalSlots,
          generation: released.generation,
        };
      }
      // The cancellation, each promotion and their outbox events: one statement.
      promoted = await persistPromotions(
        trx,
        ctx.inventory,
        target.event,
        released.promotions,
        { correlationId: input.correlationId },
        [{ bookingId: input.bookingId, state, events }],
      );
    });
  } catch (error) {
    if (released?.kind === 'OK' || (releasing && released === undefined)) {
      // Redis released and promoted (or may have: its answer was lost) but Postgres did not
      // record it: rebuild from Postgres (a rebuild that fails drops the keys instead). The
      // caller learns of the first failure.
      await reconcileEvent(ctx, eventId, { correlationId: input.correlationId }).catch((err) =>
        ctx.logger.error({ err, eventId }, 'rebuild after a failed cancellation failed'),
      );
    }
    throw error;
  }
  if (released?.kind === 'OK') {
    countBookings('cancelled');
    countBookings('promoted', promoted.length);
    if (settling) await settleBeyondTotal(ctx, eventId, [settling], input.correlationId);
  }
  ctx.wakeRelay();
  ctx.availability.touch(eventId);
}

/** A committed cancellation's seats, with the total and the keys' generation it released them in. */
export interface SettledRelease {
  bookingId: string;
  seatNumbers: readonly number[];
  totalSlots: number;
  generation: string;
}

/**
 * After cancellations committed: their seats beyond a lowered capacity stop counting as booked
 * in Redis (see `Inventory.settleBeyondTotal`), which may sell or promote as many seats within
 * it. A settle that fails, or whose answer is lost (it may have run and promoted), rebuilds the
 * event from Postgres; should that fail too, or the process stop before settling, the event
 * sells too little until the scheduled reconciliation, never too much.
 */
export async function settleBeyondTotal(
  ctx: BookingContext,
  eventId: string,
  releases: readonly SettledRelease[],
  correlationId: string,
): Promise<void> {
  for (const release of releases) {
    const beyond = release.seatNumbers.filter((seat) => seat > release.totalSlots);
    if (beyond.length === 0) continue;
    try {
      const settled = await ctx.inventory.settleBeyondTotal(eventId, {
        bookingId: release.bookingId,
        seatNumbers: beyond,
        generation: release.generation,
      });
      if (settled.kind === 'OK' && settled.promotions.length > 0)
        await recordPromotions(ctx, { eventId, correlationId }, settled.promotions);
    } catch (err) {
      ctx.logger.warn({ err, eventId }, 'seats beyond the capacity not settled; rebuilding');
      await reconcileEvent(ctx, eventId, { correlationId }).catch((error) =>
        ctx.logger.error({ err: error, eventId }, 'rebuild after an unsettled release failed'),
      );
      return;
    }
  }
}
