import { randomUUID } from 'node:crypto';
import { DomainError } from '@happening/service-kit';
import type { BookingContext } from '../../context.ts';
import { pipelinedTransaction } from '../../db/pipelined.transaction.ts';
import { countBookings, setWaitlistLength } from '../../metrics/booking.metrics.ts';
import type { Promotion, ReserveResult } from '../../redis/inventory.client.ts';
import { findEvent, toEventRecord } from '../inventory/event-inventory.repository.ts';
import { lockEventReleases, lockEventShared, lockForNewBooking } from '../inventory/event-lock.ts';
import { reconcileEvent } from '../inventory/reconcile.service.ts';
import { roleOf } from '../memberships/membership.repository.ts';
import { decide, initialState } from './booking.decider.ts';
import { checkBookable } from './booking.policy.ts';
import { findActiveBooking } from './booking.repository.ts';
import type { BookingView } from './booking.schemas.ts';
import { writeCreated } from './booking.writer.ts';
import { persistPromotions } from './promotion.writer.ts';

export interface BookRequest {
  eventId: string;
  userId: string;
  seats: number;
  seatNumbers?: number[] | undefined;
  correlationId: string;
}

class InventoryMissing extends Error {}
class SeatDivergence extends Error {}

/**
 * Books seats: per-person lock → one Postgres transaction around one Lua decision, its BEGIN sent
 * with the lock statement and its COMMIT with the write (two round trips when nothing waits). The event and
 * the caller's active booking are checked inside the transaction, under the event lock, in one
 * query (no separate pre-check round trip). When the transaction fails, Redis is compensated
 * before the error is answered. Answers the booking as committed (the hot path reads nothing
 * back).
 */
export async function bookSeats(ctx: BookingContext, request: BookRequest): Promise<BookingView> {
  const token = randomUUID();
  if (!(await ctx.inventory.lock(request.eventId, request.userId, token, ctx.settings.lockTtlMs))) {
    throw new DomainError(
      'BOOKING_IN_PROGRESS',
      409,
      'A booking of yours for this event is in progress.',
    );
  }
  try {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await attemptBooking(ctx, request);
      } catch (error) {
        // Missing keys or a seat Redis thought free: rebuild from Postgres and retry once.
        if (attempt > 1 || !(error instanceof InventoryMissing || error instanceof SeatDivergence))
          throw error;
        await reconcileEvent(ctx, request.eventId, {
          correlationId: request.correlationId,
          onlyIfMissing: error instanceof InventoryMissing,
        });
      }
    }
  } finally {
    await ctx.inventory.unlock(request.eventId, request.userId, token);
  }
}

async function attemptBooking(ctx: BookingContext, request: BookRequest): Promise<BookingView> {
  const bookingId = randomUUID();
  let decision: ReserveResult | undefined;
  let compensated = false;
  let promotions: Promotion[] = [];
  const compensate = async () => {
    if (compensated || !decision || (decision.kind !== 'confirmed' && decision.kind !== 'waiting'))
      return;
    compensated = true;
    const released = await ctx.inventory.compensate(request.eventId, {
      bookingId,
      status: decision.kind,
      seatNumbers: decision.kind === 'confirmed' ? decision.seatNumbers : [],
    });
    if (released.kind === 'OK') promotions = released.promotions;
  };

  let written: Awaited<ReturnType<typeof writeCreated>> | undefined;
  try {
    await pipelinedTransaction(ctx.db, async (tx) => {
      // Read under the lock: a status change or cancellation waits for us, or we for it.
      const found = await lockForNewBooking(
        tx,
        { eventId: request.eventId, bookingId, userId: request.userId },
        ctx.settings.rebuildWaitMs,
      );
      if (!found) throw eventNotFound();
      const event = toEventRecord(found.event);
      if (event.visibility === 'members' && !(await roleOf(tx.db, event.orgId, request.userId))) {
        throw eventNotFound();
      }
      checkBookable(event, request, ctx.now());
      if (found.activeBookingId) throw alreadyExists(found.activeBookingId);
      decision = await ctx.inventory.reserve(request.eventId, { bookingId, ...request });
      if (decision.kind === 'MISSING') throw new InventoryMissing();
      if (decision.kind === 'SEATS_TAKEN') {
        throw new DomainError('BOOKING_SEATS_TAKEN', 409, 'One of the requested seats is taken.');
      }
      try {
        const [created] = decide(
          {
            type: 'CreateBooking',
            bookingId,
            eventId: event.eventId,
            orgId: event.orgId,
            userId: request.userId,
            seats: request.seats,
            decision:
              decision.kind === 'confirmed'
                ? {
                    kind: 'confirmed',
                    seatNumbers: decision.seatNumbers,
                    acceptedSeq: decision.acceptedSeq,
                  }
                : {
                    kind: 'waiting',
                    waitingNumber: decision.waitingNumber,
                    acceptedSeq: decision.acceptedSeq,
                  },
          },
          initialState,
        );
        if (created?.type !== 'BookingCreated')
          throw new Error('CreateBooking decided no creation');
        written = await writeCreated(tx, {
          bookingId,
          event,
          created,
          meta: {
            correlationId: request.correlationId,
            waitlistPosition: decision.kind === 'waiting' ? decision.position : undefined,
          },
        });
      } catch (error) {
        await compensate();
        throw error;
      }
    });
  } catch (error) {
    // Also covers a failed COMMIT, after which the callback's own compensation did not run.
    await compensate();
    await recordPromotions(ctx, request, promotions);
    throw await translate(ctx, error, request);
  }
  ctx.wakeRelay();
  ctx.availability.touch(request.eventId);
  const decided = decision as ReserveResult;
  const { state, createdAt, updatedAt } = written!;
  if (state.status === 'none') throw new Error('a written stream cannot be empty');
  let waitlistPosition: number | null = null;
  if (decided.kind === 'waiting') {
    countBookings('waitlisted');
    // Appended last, so its position is the waitlist's length at that moment.
    setWaitlistLength(request.eventId, decided.position);
    waitlistPosition = decided.position;
  } else countBookings('confirmed');
  return {
    id: bookingId,
    eventId: state.eventId,
    userId: state.userId,
    seats: state.seats,
    status: state.status,
    seatNumbers: [...state.seatNumbers].sort((a, b) => a - b),
    waitingNumber: state.waitingNumber,
    waitlistPosition,
    cancelledReason: null,
    version: state.version,
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
  };
}

/** Promotions a compensation made are recorded like a cancellation's, in their own transaction. */
async function recordPromotions(
  ctx: BookingContext,
  request: BookRequest,
  promotions: Promotion[],
) {
  if (promotions.length === 0) return;
  try {
    const promoted = await ctx.db.transaction().execute(async (trx) => {
      await lockEventShared(trx, request.eventId, ctx.settings.rebuildWaitMs);
      await lockEventReleases(trx, request.eventId);
      const event = await findEvent(trx, request.eventId);
      return event ? persistPromotions(trx, ctx.inventory, event, promotions, request) : [];
    });
    countBookings('promoted', promoted.length);
    ctx.wakeRelay();
  } catch (error) {
    ctx.logger.error(
      { err: error, eventId: request.eventId },
      'promotions not recorded; reconciling',
    );
    await reconcileEvent(ctx, request.eventId, { correlationId: request.correlationId });
  }
}

async function translate(
  ctx: BookingContext,
  error: unknown,
  request: BookRequest,
): Promise<unknown> {
  const pg = error as { code?: string; constraint?: string };
  if (pg.code === '23505' && pg.constraint === 'bookings_one_active_per_user') {
    const existing = await findActiveBooking(ctx.db, request.eventId, request.userId);
    return alreadyExists(existing?.id);
  }
  if (pg.code === '23505' && pg.constraint === 'booking_seats_one_holder')
    return new SeatDivergence();
  return error;
}

const alreadyExists = (bookingId: string | undefined) =>
  new DomainError('BOOKING_ALREADY_EXISTS', 409, 'You already hold a booking for this event.', {
    bookingId,
  });

const eventNotFound = () => new DomainError('EVENT_NOT_FOUND', 404, 'No such event.');
