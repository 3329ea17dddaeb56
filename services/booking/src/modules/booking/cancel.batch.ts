import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { BookingContext } from '../../context.ts';
import { pipelinedTransaction } from '../../db/pipelined.transaction.ts';
import { countBookings } from '../../metrics/booking.metrics.ts';
import type { Promotion, ReleaseResult } from '../../redis/inventory.client.ts';
import { toEventRecord } from '../inventory/event-inventory.repository.ts';
import { type CancelTargetRow, toCancelTarget } from '../inventory/event-lock.ts';
import { reconcileEvent } from '../inventory/reconcile.service.ts';
import { type BookingState, evolve } from './booking.decider.ts';
import { bookingNotFound } from './booking.policy.ts';
import { commitStreams, releaseSeatsOf, type StreamWrite } from './booking.writer.ts';
import {
  CancelInventoryMissing,
  type CancelRequest,
  type SettledRelease,
  settleBeyondTotal,
} from './cancel.command.ts';
import { decideCancellation } from './cancel.policy.ts';
import { promotionWrites } from './promotion.writer.ts';

/** A cancellation of a booking of `eventId`. */
export type BatchedCancelRequest = CancelRequest & { eventId: string };

/** A batched cancellation's outcome: done, or `alone` when it must be tried on its own. */
export type BatchedCancel = 'done' | 'alone';

type Outcome = PromiseSettledResult<BatchedCancel>;
type Cancellation = NonNullable<ReturnType<typeof decideCancellation>>;

/** One cancellation's row from `lock_for_cancels`; no row when the booking is unknown. */
type LockedRow = CancelTargetRow & { n: number };

const done: Outcome = { status: 'fulfilled', value: 'done' };
const alone: Outcome = { status: 'fulfilled', value: 'alone' };

/**
 * Cancels several concurrent requests of one event (the cancellations' batcher is keyed by event)
 * in one transaction: cancellations of one event are serialised by its release lock, so a crowd
 * of them takes it once instead of once each.
 */
export async function cancelBatch(
  ctx: BookingContext,
  requests: readonly BatchedCancelRequest[],
): Promise<Outcome[]> {
  const eventId = (requests[0] as BatchedCancelRequest).eventId;
  if (requests.some((request) => request.eventId !== eventId)) {
    throw new Error('a cancellation batch holds the requests of one event');
  }
  return cancelForEvent(ctx, eventId, requests);
}

/**
 * One event's cancellations in one transaction: `lock_for_cancels` (the event lock shared, the
 * release lock, every booking's row lock, then each booking's owner, stream and caller's role),
 * each cancellation decided by the same rules as alone, the seats they free marked released in
 * Postgres, then released in Redis (waiting cancellations first, from the back of the line, then
 * the seats in the requests' order), then every cancellation, every promotion and their outbox
 * events in one statement.
 *
 * Left `alone`: everything, when a rebuild holds the event or Redis lacks its keys, and every
 * cancellation of a transaction that failed — Redis, already released, is then rebuilt from
 * Postgres first.
 */
async function cancelForEvent(
  ctx: BookingContext,
  eventId: string,
  requests: readonly BatchedCancelRequest[],
): Promise<Outcome[]> {
  const outcomes: Outcome[] = requests.map(() => alone);
  let released = 0;
  let uncertain = false;
  let promoted = 0;
  const settling: SettledRelease[] = [];
  try {
    await pipelinedTransaction(ctx.db, async (tx) => {
      const rows = await tx.first(
        sql<LockedRow>`
          SELECT * FROM lock_for_cancels(${`inventory:${eventId}`}, ${`release:${eventId}`}, ${eventId},
            ${sql.val(requests.map((r) => r.bookingId))}::uuid[],
            ${sql.val(requests.map((r) => r.callerId))}::text[])`.compile(tx.db),
      );
      const nothing = () => tx.commitWith(sql`SELECT 1`.compile(tx.db));
      if (rows[0] && !rows[0].shared) return nothing();
      const byN = new Map(rows.map((row) => [row.n, row]));
      const states = new Map<string, BookingState>();
      const writes: StreamWrite[] = [];
      const promotions: (Promotion & { meta: { correlationId: string } })[] = [];
      const decisions: { request: BatchedCancelRequest; decided: Cancellation }[] = [];
      for (const [k, request] of requests.entries()) {
        const row = byN.get(k + 1);
        if (!row) {
          outcomes[k] = { status: 'rejected', reason: bookingNotFound() };
          continue;
        }
        const target = toCancelTarget(row);
        let decided: ReturnType<typeof decideCancellation>;
        try {
          decided = decideCancellation(
            request,
            { ...target, state: states.get(request.bookingId) ?? target.state },
            ctx.now(),
          );
        } catch (error) {
          outcomes[k] = { status: 'rejected', reason: error };
          continue;
        }
        outcomes[k] = done;
        if (!decided) continue;
        // A second cancellation of the same booking in this batch sees it cancelled.
        states.set(request.bookingId, decided.events.reduce(evolve, decided.state));
        decisions.push({ request, decided });
      }
      if (decisions.length === 0) return nothing();
      // Waiting bookings leave the waitlist before any seat is released, the last in line first,
      // so no release promotes a booking this batch cancels: leaving from behind the head frees
      // nothing (fifo) and waiting bookings hold no seats (first_fit). All releases can then go
      // to Redis at once (run in this order).
      decisions.sort((x, y) => releaseRank(x.decided.state) - releaseRank(y.decided.state));
      const token = randomUUID();
      await releaseSeatsOf(
        tx.db,
        { eventId, token },
        decisions.map(({ request, decided }) => ({
          bookingId: request.bookingId,
          state: decided.state,
        })),
      );
      const event = toEventRecord(rows[0] as LockedRow);
      const answers = await Promise.allSettled(
        decisions.map(({ request, decided }) =>
          ctx.inventory.release(
            eventId,
            {
              bookingId: request.bookingId,
              status: decided.state.status,
              seatNumbers: decided.state.seatNumbers,
            },
            event,
            token,
          ),
        ),
      );
      // Counted before anything can throw: a release Redis made must be rebuilt away on failure,
      // and so must one whose answer was lost (it may have run).
      released = answers.filter((a) => a.status === 'fulfilled' && a.value.kind === 'OK').length;
      const failedRelease = answers.find((a) => a.status === 'rejected');
      if (failedRelease) uncertain = true;
      if (failedRelease) throw failedRelease.reason;
      const releases = answers.map((a) => (a as PromiseFulfilledResult<ReleaseResult>).value);
      if (released < releases.length) throw new CancelInventoryMissing();
      const cancelledHere = new Set(decisions.map(({ request }) => request.bookingId));
      decisions.forEach(({ request, decided }, i) => {
        const meta = { correlationId: request.correlationId };
        writes.push({ bookingId: request.bookingId, ...decided, meta });
        const release = releases[i] as Extract<ReleaseResult, { kind: 'OK' }>;
        if (decided.state.status === 'confirmed') {
          settling.push({
            bookingId: request.bookingId,
            seatNumbers: decided.state.seatNumbers,
            totalSlots: event.totalSlots,
            generation: release.generation,
          });
        }
        for (const promotion of release.promotions) {
          if (cancelledHere.has(promotion.bookingId)) {
            throw new Error(`booking ${promotion.bookingId} was promoted while being cancelled`);
          }
          promotions.push({ ...promotion, meta });
        }
      });
      if (writes.length === 0) return nothing();
      const first = requests[0] as BatchedCancelRequest;
      const promotionsWritten = await promotionWrites(tx.db, ctx.inventory, event, promotions);
      promoted = promotionsWritten.length;
      // Every cancellation, each promotion and their outbox events: one statement, with COMMIT.
      await commitStreams(tx, event, [...writes, ...promotionsWritten], {
        correlationId: first.correlationId,
      });
    });
  } catch (error) {
    if (released > 0 || uncertain) {
      // Redis already released and promoted but Postgres did not record it: rebuild from Postgres.
      // Should that fail too, the keys are dropped and each cancellation alone rebuilds them first.
      await reconcileEvent(ctx, eventId, {
        correlationId: (requests[0] as BatchedCancelRequest).correlationId,
      }).catch((err) =>
        ctx.logger.error({ err, eventId }, 'rebuild after a failed cancellation batch failed'),
      );
    }
    if (!(error instanceof CancelInventoryMissing)) {
      ctx.logger.warn(
        { err: error, eventId, requests: requests.length },
        'cancellation batch failed; cancelling its requests one by one',
      );
    }
    return outcomes.map((outcome) => (outcome === done ? alone : outcome));
  }
  countBookings('cancelled', released);
  countBookings('promoted', promoted);
  await settleBeyondTotal(
    ctx,
    eventId,
    settling,
    (requests[0] as BatchedCancelRequest).correlationId,
  );
  ctx.wakeRelay();
  ctx.availability.touch(eventId);
  return outcomes;
}

/** Release order in a batch: waiting bookings from the back of the line, then seats. */
function releaseRank(state: Extract<BookingState, { status: 'confirmed' | 'waiting' }>): number {
  return state.status === 'waiting' ? -(state.waitingNumber ?? 0) : 1;
}
