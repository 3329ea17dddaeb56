import { DomainError } from '@happening/service-kit';
import type { BookingContext } from '../../context.ts';
import { countBookings } from '../../metrics/booking.metrics.ts';
import type { ReleaseResult } from '../../redis/inventory.client.ts';
import { lockForCancel } from '../inventory/event-lock.ts';
import { reconcileEvent } from '../inventory/reconcile.service.ts';
import { decide } from './booking.decider.ts';
import { findBooking } from './booking.repository.ts';
import { cancellationReason } from './cancel.policy.ts';
import { persistPromotions } from './promotion.writer.ts';

class InventoryMissing extends Error {}

/**
 * Cancels a booking: Postgres first (locks, row lock + stream, so a second cancel changes
 * nothing and frees no seat: one round trip), then one Lua release that promotes per policy,
 * then the promoted rows locked (one round trip) and one statement with the cancellation, each
 * promotion and their outbox events, all in one transaction.
 */
export async function cancelBooking(
  ctx: BookingContext,
  input: { bookingId: string; callerId: string; correlationId: string; note?: string | undefined },
): Promise<void> {
  const row = await findBooking(ctx.db, input.bookingId);
  if (!row) throw notFound();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await attemptCancel(ctx, row.event_id, input);
    } catch (error) {
      if (attempt > 1 || !(error instanceof InventoryMissing)) throw error;
      await reconcileEvent(ctx, row.event_id, {
        correlationId: input.correlationId,
        onlyIfMissing: true,
      });
    }
  }
}

async function attemptCancel(
  ctx: BookingContext,
  eventId: string,
  input: { bookingId: string; callerId: string; correlationId: string; note?: string | undefined },
): Promise<void> {
  let released: ReleaseResult | undefined;
  let promoted: string[] = [];
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const target = await lockForCancel(
        trx,
        { eventId, bookingId: input.bookingId, callerId: input.callerId },
        ctx.settings.rebuildWaitMs,
      );
      if (!target) throw notFound();
      const { event, state } = target;
      const reason = cancellationReason({
        callerId: input.callerId,
        callerRole: target.callerRole,
        ownerId: target.ownerId,
        event,
        now: ctx.now(),
      });
      const events = decide(
        { type: 'CancelBooking', reason, cancelledBy: input.callerId, note: input.note },
        state,
      );
      if (events.length === 0) return;
      if (state.status !== 'confirmed' && state.status !== 'waiting') return;
      released = await ctx.inventory.release(eventId, {
        bookingId: input.bookingId,
        status: state.status,
        seatNumbers: state.seatNumbers,
      });
      if (released.kind === 'MISSING') throw new InventoryMissing();
      // The cancellation, each promotion and their outbox events: one statement.
      promoted = await persistPromotions(
        trx,
        ctx.inventory,
        event,
        released.promotions,
        { correlationId: input.correlationId },
        [{ bookingId: input.bookingId, state, events }],
      );
    });
  } catch (error) {
    if (released?.kind === 'OK') {
      // Redis already released and promoted but Postgres did not record it: rebuild from Postgres.
      await reconcileEvent(ctx, eventId, { correlationId: input.correlationId });
    }
    throw error;
  }
  if (released?.kind === 'OK') {
    countBookings('cancelled');
    countBookings('promoted', promoted.length);
  }
  ctx.wakeRelay();
  ctx.availability.touch(eventId);
}

const notFound = () => new DomainError('BOOKING_NOT_FOUND', 404, 'No such booking.');
