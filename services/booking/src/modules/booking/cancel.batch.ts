import type { Role } from '@happening/contracts';
import { sql } from 'kysely';
import type { BookingContext } from '../../context.ts';
import type { EventInventoryRow } from '../../db/database.ts';
import { countBookings } from '../../metrics/booking.metrics.ts';
import type { Promotion } from '../../redis/inventory.client.ts';
import { toEventRecord } from '../inventory/event-inventory.repository.ts';
import { reconcileEvent } from '../inventory/reconcile.service.ts';
import { type BookingState, evolve } from './booking.decider.ts';
import { foldHistory, type HistoryJson } from './booking.repository.ts';
import type { StreamWrite } from './booking.writer.ts';
import {
  CancelInventoryMissing,
  type CancelRequest,
  decideCancellation,
  notFound,
} from './cancel.command.ts';
import { persistPromotions } from './promotion.writer.ts';

/** A cancellation of a booking of `eventId`. */
export type BatchedCancelRequest = CancelRequest & { eventId: string };

/** A batched cancellation's outcome: done, or `alone` when it must be tried on its own. */
export type BatchedCancel = 'done' | 'alone';

type Outcome = PromiseSettledResult<BatchedCancel>;

/** One cancellation's row from `lock_for_cancels`; no row when the booking is unknown. */
type LockedRow = EventInventoryRow & {
  n: number;
  shared: boolean;
  owner_id: string;
  history: HistoryJson;
  caller_role: Role | null;
};

const done: Outcome = { status: 'fulfilled', value: 'done' };
const alone: Outcome = { status: 'fulfilled', value: 'alone' };

/**
 * Cancels several concurrent requests, one transaction per event: cancellations of one event are
 * serialised by its release lock, so a crowd of them takes it once instead of once each.
 */
export async function cancelBatch(
  ctx: BookingContext,
  requests: readonly BatchedCancelRequest[],
): Promise<Outcome[]> {
  const outcomes: Outcome[] = requests.map(() => alone);
  const byEvent = new Map<string, number[]>();
  requests.forEach((request, i) => {
    byEvent.set(request.eventId, [...(byEvent.get(request.eventId) ?? []), i]);
  });
  await Promise.all(
    [...byEvent].map(async ([eventId, indexes]) => {
      const answers = await cancelForEvent(
        ctx,
        eventId,
        indexes.map((i) => requests[i] as BatchedCancelRequest),
      );
      answers.forEach((answer, k) => {
        outcomes[indexes[k] as number] = answer;
      });
    }),
  );
  return outcomes;
}

/**
 * One event's cancellations in one transaction: `lock_for_cancels` (the event lock shared, the
 * release lock, every booking's row lock, then each booking's owner, stream and caller's role),
 * each cancellation decided by the same rules as alone and released in Redis in the requests'
 * order, then every cancellation, every promotion and their outbox events in one statement.
 *
 * Left `alone`: everything, when a rebuild holds the event or Redis lacks its keys; a
 * cancellation of a booking an earlier release of this batch promoted (it must see the booking
 * confirmed); and every cancellation of a transaction that failed — Redis, already released,
 * is then rebuilt from Postgres first.
 */
async function cancelForEvent(
  ctx: BookingContext,
  eventId: string,
  requests: readonly BatchedCancelRequest[],
): Promise<Outcome[]> {
  const outcomes: Outcome[] = requests.map(() => alone);
  let released = 0;
  let promoted: string[] = [];
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const { rows } = await sql<LockedRow>`
        SELECT * FROM lock_for_cancels(${`inventory:${eventId}`}, ${`release:${eventId}`}, ${eventId},
          ${sql.val(requests.map((r) => r.bookingId))}::uuid[],
          ${sql.val(requests.map((r) => r.callerId))}::text[])`.execute(trx);
      if (rows[0] && !rows[0].shared) return;
      const byN = new Map(rows.map((row) => [row.n, row]));
      const states = new Map<string, BookingState>();
      const promotedHere = new Set<string>();
      const writes: StreamWrite[] = [];
      const promotions: (Promotion & { meta: { correlationId: string } })[] = [];
      for (const [k, request] of requests.entries()) {
        const row = byN.get(k + 1);
        if (!row) {
          outcomes[k] = { status: 'rejected', reason: notFound() };
          continue;
        }
        if (promotedHere.has(request.bookingId)) continue;
        const { n: _n, shared: _s, owner_id, history, caller_role, ...eventRow } = row;
        const event = toEventRecord(eventRow);
        let decided: ReturnType<typeof decideCancellation>;
        try {
          decided = decideCancellation(ctx, request, {
            ownerId: owner_id,
            state: states.get(request.bookingId) ?? foldHistory(history),
            callerRole: caller_role ?? undefined,
            event,
          });
        } catch (error) {
          outcomes[k] = { status: 'rejected', reason: error };
          continue;
        }
        outcomes[k] = done;
        if (!decided) continue;
        const { state, events } = decided;
        const release = await ctx.inventory.release(eventId, {
          bookingId: request.bookingId,
          status: state.status,
          seatNumbers: state.seatNumbers,
        });
        if (release.kind === 'MISSING') throw new CancelInventoryMissing();
        released += 1;
        const meta = { correlationId: request.correlationId };
        writes.push({ bookingId: request.bookingId, state, events, meta });
        states.set(request.bookingId, events.reduce(evolve, state));
        for (const promotion of release.promotions) {
          promotions.push({ ...promotion, meta });
          promotedHere.add(promotion.bookingId);
        }
      }
      if (writes.length === 0) return;
      const first = requests[0] as BatchedCancelRequest;
      const event = toEventRecord(rows[0] as EventInventoryRow);
      // Every cancellation, each promotion and their outbox events: one statement.
      promoted = await persistPromotions(
        trx,
        ctx.inventory,
        event,
        promotions,
        { correlationId: first.correlationId },
        writes,
      );
    });
  } catch (error) {
    if (released > 0) {
      // Redis already released and promoted but Postgres did not record it: rebuild from Postgres.
      await reconcileEvent(ctx, eventId, {
        correlationId: (requests[0] as BatchedCancelRequest).correlationId,
      });
    }
    if (!(error instanceof CancelInventoryMissing)) {
      ctx.logger.warn(
        { err: error, eventId, requests: requests.length },
        'cancellation batch failed; cancelling its requests one by one',
      );
    }
    return outcomes.map((outcome) => (outcome === done ? alone : outcome));
  }
  if (released > 0) {
    countBookings('cancelled', released);
    countBookings('promoted', promoted.length);
  }
  ctx.wakeRelay();
  ctx.availability.touch(eventId);
  return outcomes;
}
