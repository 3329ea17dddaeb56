import { DomainError } from '@happening/service-kit';
import type { BookingContext } from '../../context.ts';
import { countBookings } from '../../metrics/booking.metrics.ts';
import type { ReleaseResult } from '../../redis/inventory.client.ts';
import { findEvent } from '../inventory/event-inventory.repository.ts';
import { lockEventReleases, lockEventShared } from '../inventory/event-lock.ts';
import { reconcileEvent } from '../inventory/reconcile.service.ts';
import { roleOf } from '../memberships/membership.repository.ts';
import { decide } from './booking.decider.ts';
import { findBooking, loadForUpdate } from './booking.repository.ts';
import { writeStream } from './booking.writer.ts';
import { cancellationReason } from './cancel.policy.ts';
import { persistPromotions } from './promotion.writer.ts';

class InventoryMissing extends Error {}

/**
 * Cancels a booking: Postgres first (row lock + stream version, so a second cancel changes
 * nothing and frees no seat), then one Lua release that promotes per policy, then one
 * transaction with the cancellation, each promotion, and their outbox events.
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
      await lockEventShared(trx, eventId, ctx.settings.rebuildWaitMs);
      await lockEventReleases(trx, eventId);
      const loaded = await loadForUpdate(trx, input.bookingId);
      const event = await findEvent(trx, eventId);
      if (!loaded || !event) throw notFound();
      const reason = cancellationReason({
        callerId: input.callerId,
        callerRole: await roleOf(trx, event.orgId, input.callerId),
        ownerId: loaded.row.user_id,
        event,
        now: ctx.now(),
      });
      const events = decide(
        { type: 'CancelBooking', reason, cancelledBy: input.callerId, note: input.note },
        loaded.state,
      );
      if (events.length === 0) return;
      const previous = loaded.state;
      if (previous.status !== 'confirmed' && previous.status !== 'waiting') return;
      released = await ctx.inventory.release(eventId, {
        bookingId: input.bookingId,
        status: previous.status,
        seatNumbers: previous.seatNumbers,
      });
      if (released.kind === 'MISSING') throw new InventoryMissing();
      await writeStream(trx, {
        bookingId: input.bookingId,
        event,
        state: loaded.state,
        events,
        meta: { correlationId: input.correlationId },
      });
      promoted = await persistPromotions(trx, ctx.inventory, event, released.promotions, {
        correlationId: input.correlationId,
      });
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
