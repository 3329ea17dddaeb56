import type { KeepResponse } from '@happening/db';
import { DomainError } from '@happening/service-kit';
import { sql } from 'kysely';
import type { BookingContext } from '../../context.ts';
import type { PipelinedTransaction } from '../../db/pipelined.transaction.ts';
import { countBookings, setWaitlistLength } from '../../metrics/booking.metrics.ts';
import type { Decided, Promotion, ReserveResult } from '../../redis/inventory.client.ts';
import {
  type EventRecord,
  findEvent,
  toEventRecord,
} from '../inventory/event-inventory.repository.ts';
import { lockEventReleases, lockEventShared, lockForNewBooking } from '../inventory/event-lock.ts';
import { reconcileEvent } from '../inventory/reconcile.service.ts';
import { roleOf } from '../memberships/membership.repository.ts';
import { type BookingState, decide, evolve, initialState } from './booking.decider.ts';
import { checkBookable, eventNotFound, mayKnowEvent } from './booking.policy.ts';
import { findActiveBooking, findBookings } from './booking.repository.ts';
import type { BookingView } from './booking.schemas.ts';
import { toViews } from './booking.views.ts';
import type { CreatedWrite } from './booking.writer.ts';
import { persistPromotions } from './promotion.writer.ts';

/** What the caller asked for: N seats of one event, perhaps named. */
export interface BookRequest {
  eventId: string;
  userId: string;
  seats: number;
  seatNumbers?: number[] | undefined;
  correlationId: string;
  /** Completes the request's Idempotency-Key with its answer, in the booking's transaction. */
  keep?: KeepResponse | undefined;
}

/** A Redis decision that took something: seats, or a place on the waitlist. */
export type { Decided };

/** Redis lacks the event's keys: rebuild them from Postgres and try again. */
export class InventoryMissing extends Error {}
/**
 * Redis handed out what Postgres already holds (a booked seat, or a waiting number: writes Redis
 * lost, as after a failover): rebuild and try again.
 */
export class InventoryDivergence extends Error {}

/** The unique indexes a decision taken on diverged Redis keys runs into. */
const DIVERGENCE_CONSTRAINTS = new Set(['booking_seats_one_holder', 'bookings_waiting_number']);

/** The checks a new booking passes before its Redis decision; throws what answers it. */
export function checkNewBooking(
  event: EventRecord,
  request: BookRequest,
  found: { activeBookingId: string | null | undefined; isMember: boolean },
  now: Date,
): void {
  if (!mayKnowEvent(event, found.isMember)) throw eventNotFound();
  checkBookable(event, request, now);
  if (found.activeBookingId) throw alreadyExists(found.activeBookingId);
}

/**
 * In a booking's own transaction: the event lock shared and the booking's id lock, then the
 * event, the person's active booking and role read under them (a status change or cancellation
 * waits for us, or we for it), and the checks. Returns the event; throws what answers the request.
 */
export async function lockAndCheckNewBooking(
  ctx: BookingContext,
  tx: PipelinedTransaction,
  request: BookRequest,
  bookingId: string,
): Promise<EventRecord> {
  const found = await lockForNewBooking(
    tx,
    { eventId: request.eventId, bookingId, userId: request.userId },
    ctx.settings.rebuildWaitMs,
  );
  if (!found) throw eventNotFound();
  const event = toEventRecord(found.event);
  const isMember =
    event.visibility !== 'members' || Boolean(await roleOf(tx.db, event.orgId, request.userId));
  checkNewBooking(event, request, { activeBookingId: found.activeBookingId, isMember }, ctx.now());
  return event;
}

/** Reads Redis's answer: a decision to write, or the error that ends this attempt. */
export function decidedOrThrow(decision: ReserveResult): Decided {
  if (decision.kind === 'MISSING') throw new InventoryMissing();
  if (decision.kind === 'SEATS_TAKEN') {
    throw new DomainError(
      'BOOKING_SEATS_TAKEN',
      409,
      'One of the requested seats is taken, or held for the people on the waitlist.',
    );
  }
  return decision;
}

/** What `writeCreated` writes for a new booking Redis decided. */
export function createdWrite(
  request: BookRequest,
  bookingId: string,
  event: EventRecord,
  decision: Decided,
): CreatedWrite {
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
  if (created?.type !== 'BookingCreated') throw new Error('CreateBooking decided no creation');
  return {
    bookingId,
    event,
    created,
    meta: {
      correlationId: request.correlationId,
      waitlistPosition: decision.kind === 'waiting' ? decision.position : undefined,
    },
  };
}

/**
 * Completes the Idempotency-Keys of the keyed new bookings with their answers, in their
 * transaction before its write, so a key is completed exactly when its booking commits. The
 * answer carries the rows' timestamps: the transaction's `now()`, read here first.
 */
export async function keepCreatedAnswers(
  tx: PipelinedTransaction,
  bookings: readonly { request: BookRequest; decision: Decided; write: CreatedWrite }[],
): Promise<void> {
  const keyed = bookings.filter(({ request }) => request.keep);
  if (keyed.length === 0) return;
  const { rows } = await sql<{ now: Date }>`SELECT now() AS now`.execute(tx.db);
  const now = rows[0]?.now as Date;
  // One statement each, one after the other (the transaction holds one connection).
  for (const { request, decision, write } of keyed) {
    await request.keep?.(tx.db, {
      statusCode: 201,
      body: createdView(write.bookingId, decision, {
        state: evolve(initialState, write.created),
        createdAt: now,
        updatedAt: now,
      }),
    });
  }
}

/**
 * After a new booking committed: wakes the relay, signals the availability change, counts it,
 * and answers it as committed (nothing is read back).
 */
export function acknowledgeCreated(
  ctx: BookingContext,
  bookingId: string,
  decision: Decided,
  written: { state: BookingState; createdAt: Date; updatedAt: Date },
): BookingView {
  const view = createdView(bookingId, decision, written);
  ctx.wakeRelay();
  ctx.availability.touch(view.eventId);
  if (decision.kind === 'waiting') {
    countBookings('waitlisted');
    // Appended last, so its position is the waitlist's length at that moment.
    setWaitlistLength(view.eventId, decision.position);
  } else countBookings('confirmed');
  return view;
}

/** A new booking's answer, from its decision and its written state. */
function createdView(
  bookingId: string,
  decision: Decided,
  written: { state: BookingState; createdAt: Date; updatedAt: Date },
): BookingView {
  const { state, createdAt, updatedAt } = written;
  if (state.status === 'none') throw new Error('a written stream cannot be empty');
  return {
    id: bookingId,
    eventId: state.eventId,
    userId: state.userId,
    seats: state.seats,
    status: state.status,
    seatNumbers: [...state.seatNumbers].sort((a, b) => a - b),
    waitingNumber: state.waitingNumber,
    waitlistPosition: decision.kind === 'waiting' ? decision.position : null,
    cancelledReason: null,
    version: state.version,
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
  };
}

/** A Redis decision whose booking did not commit; `unknown` when its answer was lost. */
export interface UncommittedDecision {
  request: { eventId: string; correlationId: string };
  bookingId: string;
  decision: Decided | 'unknown';
}

/**
 * Gives Redis back what decisions took whose bookings did not commit, then records the promotions
 * that frees, once the failed transaction is over. An event where a decision could not be given
 * back, or whose answer was lost (the script may have run), is rebuilt from Postgres instead (a
 * rebuild that fails drops its keys). Never throws: the caller answers its own error.
 */
export async function giveBack(
  ctx: BookingContext,
  decisions: readonly UncommittedDecision[],
): Promise<void> {
  const promotions = new Map<
    string,
    { request: UncommittedDecision['request']; promoted: Promotion[] }
  >();
  const diverged = new Map<string, UncommittedDecision['request']>();
  for (const { request, bookingId, decision } of decisions) {
    if (decision === 'unknown') {
      diverged.set(request.eventId, request);
      continue;
    }
    try {
      const released = await ctx.inventory.compensate(request.eventId, {
        bookingId,
        status: decision.kind,
        seatNumbers: decision.kind === 'confirmed' ? decision.seatNumbers : [],
        generation: decision.generation,
      });
      if (released.kind !== 'OK') continue;
      const entry = promotions.get(request.eventId) ?? { request, promoted: [] };
      entry.promoted.push(...released.promotions);
      promotions.set(request.eventId, entry);
    } catch (err) {
      ctx.logger.error(
        { err, eventId: request.eventId },
        'a decision was not given back; rebuilding the event from Postgres',
      );
      diverged.set(request.eventId, request);
    }
  }
  for (const [eventId, { request, promoted }] of promotions) {
    await recordPromotions(ctx, request, promoted);
    // An announcement made while the decision held its seats showed them taken.
    ctx.availability.touch(eventId);
  }
  for (const [eventId, request] of diverged) {
    await reconcileEvent(ctx, eventId, { correlationId: request.correlationId }).catch((err) =>
      ctx.logger.error({ err, eventId }, 'rebuild after an uncommitted decision failed'),
    );
  }
}

/**
 * New bookings whose transaction's COMMIT went unanswered, so they may have committed: instead of
 * being given back, their events are rebuilt from Postgres (the rebuild's event lock waits for
 * the transaction to end, whichever way), then the bookings are read back. Returns the views of
 * those that committed, by id, counted as acknowledged bookings are; the others took nothing.
 * Undefined when they could not be read back: whether they committed is still unknown. Never
 * throws.
 */
export async function settleUnknownCommit(
  ctx: BookingContext,
  bookings: readonly Omit<UncommittedDecision, 'decision'>[],
): Promise<Map<string, BookingView> | undefined> {
  await giveBack(
    ctx,
    bookings.map((booking) => ({ ...booking, decision: 'unknown' as const })),
  );
  ctx.wakeRelay();
  try {
    const rows = await findBookings(
      ctx.db,
      bookings.map(({ bookingId }) => bookingId),
    );
    const views = await toViews(ctx, rows);
    for (const view of views) countBookings(view.status === 'waiting' ? 'waitlisted' : 'confirmed');
    return new Map(views.map((view) => [view.id, view]));
  } catch (err) {
    ctx.logger.error({ err }, 'bookings whose commit went unanswered could not be read back');
    return undefined;
  }
}

/**
 * Promotions Redis made outside a transaction (a give-back's, or a settled cancellation's) are
 * recorded like a cancellation's, in their own transaction.
 */
export async function recordPromotions(
  ctx: BookingContext,
  request: { eventId: string; correlationId: string },
  promotions: Promotion[],
): Promise<void> {
  if (promotions.length === 0) return;
  try {
    const promoted = await ctx.db.transaction().execute(async (trx) => {
      await lockEventShared(trx, request.eventId, ctx.settings.rebuildWaitMs);
      await lockEventReleases(trx, request.eventId);
      // The give-back ran outside the event lock. A rebuild since then (it needs the lock this
      // transaction now holds) replaced the keys from Postgres, where these promotions never
      // happened, and decided afresh who holds the seats: recording them would hand out seats
      // twice, or beyond a lowered capacity. Keys Postgres no longer vouches for (a failed
      // rebuild recorded them untrusted) may have lost a promotion it holds: whoever they
      // promoted may stand behind someone they dropped, and they are rebuilt before use anyway.
      const event = await findEvent(trx, request.eventId);
      if (!event) return [];
      const keys = await ctx.inventory.keysOf(request.eventId);
      // A cancellation's release ran on these keys and never committed (this transaction holds
      // the release lock, so it is over): whoever it promoted still waits in Postgres, and these
      // promotions may have passed them. Nothing is recorded; the event is rebuilt.
      if (keys?.lastRelease !== undefined && keys.lastRelease !== event.lastRelease)
        throw new Error('the keys hold a release Postgres does not record');
      const generation = event.redisGeneration ?? keys?.generation;
      const standing = promotions.filter((promotion) => promotion.generation === generation);
      return persistPromotions(trx, ctx.inventory, event, standing, request);
    });
    countBookings('promoted', promoted.length);
    ctx.wakeRelay();
    // The waitlist shrank: announced (and the waitlist gauge set) like a cancellation's promotions.
    ctx.availability.touch(request.eventId);
  } catch (error) {
    ctx.logger.error(
      { err: error, eventId: request.eventId },
      'promotions not recorded; reconciling',
    );
    await reconcileEvent(ctx, request.eventId, { correlationId: request.correlationId }).catch(
      (err) => ctx.logger.error({ err, eventId: request.eventId }, 'reconciliation failed'),
    );
  }
}

/** What a failed booking transaction answers: Postgres's guards as domain errors. */
export async function translateWriteError(
  ctx: BookingContext,
  error: unknown,
  request: BookRequest,
): Promise<unknown> {
  const pg = error as { code?: string; constraint?: string };
  if (pg.code === '23505' && pg.constraint === 'bookings_one_active_per_user') {
    const existing = await findActiveBooking(ctx.db, request.eventId, request.userId);
    return alreadyExists(existing?.id);
  }
  if (
    pg.code === '23505' &&
    pg.constraint !== undefined &&
    DIVERGENCE_CONSTRAINTS.has(pg.constraint)
  )
    return new InventoryDivergence();
  return error;
}

const alreadyExists = (bookingId: string | undefined) =>
  new DomainError('BOOKING_ALREADY_EXISTS', 409, 'You already hold a booking for this event.', {
    bookingId,
  });
