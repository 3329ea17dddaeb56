import { randomUUID } from 'node:crypto';
import { DomainError, isDependencyUnavailable } from '@happening/service-kit';
import { sql } from 'kysely';
import type { BookingContext } from '../../context.ts';
import type { EventInventoryRow } from '../../db/database.ts';
import { CommitOutcomeUnknown, pipelinedTransaction } from '../../db/pipelined.transaction.ts';
import { type EventRecord, toEventRecord } from '../inventory/event-inventory.repository.ts';
import { eventNotFound } from './booking.policy.ts';
import type { BookingView } from './booking.schemas.ts';
import { writeCreated } from './booking.writer.ts';
import {
  acknowledgeCreated,
  type BookRequest,
  checkNewBooking,
  createdWrite,
  type Decided,
  decidedOrThrow,
  giveBack,
  InventoryMissing,
  keepCreatedAnswers,
  lockAndCheckNewBooking,
  settleUnknownCommit,
  type UncommittedDecision,
} from './new-booking.ts';

/** A booking request in a batch, with the token its person lock is taken with. */
export type BatchedBookRequest = BookRequest & { lockToken: string };

/** A batched booking's outcome: its answer, or `alone` when it must be tried on its own. */
export type BatchedBooking = BookingView | 'alone';

/** One request's row from `lock_for_new_bookings`; the event's columns are null when unknown. */
type LockedRow = Partial<EventInventoryRow> & {
  n: number;
  shared: boolean;
  active_booking_id: string | null;
  caller_role: string | null;
};

/**
 * Books several concurrent requests in one transaction. First every request's person lock, in one
 * Redis round trip: a request whose person has another booking of this event in flight is
 * answered 409 `BOOKING_IN_PROGRESS` and goes no further; the lock is taken before anything is
 * read, so a duplicate that waited for it sees the first one's booking. Then BEGIN with
 * `lock_for_new_bookings` (the
 * events' locks shared, every new booking's id lock, then each request's event, active booking
 * and role, read after the locks), one Redis decision per admitted request (sent together, run
 * by Redis in the requests' order, so first come stays first served), then every decided
 * booking's write in one statement with COMMIT. Per request the rules are those of a booking on
 * its own; a request that fails its checks is answered without touching Redis or the others.
 *
 * A batch whose write failed writes its decisions again one by one, each in its own transaction,
 * while Redis still holds them (`keepDecision`): those that fail again are given back to Redis
 * once the others are written, so nothing stays taken for a booking that did not commit, and the
 * guard that failed answers only the request it concerns, booked alone.
 *
 * Left `alone` (the caller books it in its own transaction): a request whose event a rebuild
 * holds, whose event's keys are missing in Redis, and a decision of a failed batch that could not
 * be written again.
 * A decision Redis answered with an error (it may have run) is answered with that error once its
 * event has been rebuilt from Postgres. A COMMIT that went unanswered gives nothing back: the
 * events are rebuilt and the bookings read back (`settleUnknownCommit`); those that did not
 * commit are left `alone`.
 */
export async function bookBatch(
  ctx: BookingContext,
  requests: readonly BatchedBookRequest[],
): Promise<PromiseSettledResult<BatchedBooking>[]> {
  const outcomes: PromiseSettledResult<BatchedBooking>[] = requests.map(() => alone);
  const bookingIds = requests.map(() => randomUUID());
  const uncommitted = (index: number, decision: Decided | 'unknown'): UncommittedDecision => ({
    request: requests[index] as BookRequest,
    bookingId: bookingIds[index] as string,
    decision,
  });
  const locked = await ctx.inventory.lockAll(
    requests.map(({ eventId, userId, lockToken }) => ({ eventId, userId, token: lockToken })),
    ctx.settings.lockTtlMs,
  );
  // Indexes of the requests that hold their lock, in the requests' order.
  const entrants: number[] = [];
  locked.forEach((taken, index) => {
    if (taken) entrants.push(index);
    else outcomes[index] = { status: 'rejected', reason: bookingInProgress() };
  });
  if (entrants.length === 0) return outcomes;
  const decided: { index: number; event: EventRecord; decision: Decided }[] = [];
  // Requests whose decision's answer was lost (Redis may have run it): their events are rebuilt.
  const unanswered: number[] = [];
  let written: Awaited<ReturnType<typeof writeCreated>>;
  try {
    written = await pipelinedTransaction(ctx.db, async (tx) => {
      const rows = await tx.first(
        sql<LockedRow>`SELECT * FROM lock_for_new_bookings(${JSON.stringify(
          entrants.map((index) => ({
            eventId: (requests[index] as BookRequest).eventId,
            bookingId: bookingIds[index],
            userId: (requests[index] as BookRequest).userId,
          })),
        )}::jsonb)`.compile(tx.db),
      );
      const admitted: { index: number; event: EventRecord }[] = [];
      // Admitted in the requests' order, whatever order the rows came in.
      rows.sort((x, y) => x.n - y.n);
      for (const row of rows) {
        const index = entrants[row.n - 1] as number;
        const request = requests[index] as BookRequest;
        if (!row.shared) continue;
        try {
          if (!row.event_id) throw eventNotFound();
          const event = toEventRecord(row as EventInventoryRow);
          checkNewBooking(
            event,
            request,
            { activeBookingId: row.active_booking_id, isMember: row.caller_role !== null },
            ctx.now(),
          );
          admitted.push({ index, event });
        } catch (error) {
          outcomes[index] = { status: 'rejected', reason: error };
        }
      }
      // Sent in one go; Redis runs them in this order.
      const answers = await Promise.allSettled(
        admitted.map(({ index, event }) => {
          const request = requests[index] as BookRequest;
          return ctx.inventory.reserve(
            request.eventId,
            { bookingId: bookingIds[index] as string, ...request },
            event.redisGeneration,
          );
        }),
      );
      admitted.forEach(({ index, event }, i) => {
        const answer = answers[i] as PromiseSettledResult<
          Awaited<ReturnType<typeof ctx.inventory.reserve>>
        >;
        try {
          if (answer.status === 'rejected') {
            unanswered.push(index);
            throw answer.reason;
          }
          decided.push({ index, event, decision: decidedOrThrow(answer.value) });
        } catch (error) {
          if (!(error instanceof InventoryMissing))
            outcomes[index] = { status: 'rejected', reason: error };
        }
      });
      if (decided.length === 0) {
        await tx.commitWith(sql`SELECT 1`.compile(tx.db));
        return [];
      }
      // Built after every decision is recorded: a throw here fails the batch, which writes them
      // again one by one.
      const writes = decided.map(({ index, event, decision }) => ({
        request: requests[index] as BookRequest,
        decision,
        write: createdWrite(
          requests[index] as BookRequest,
          bookingIds[index] as string,
          event,
          decision,
        ),
      }));
      await keepCreatedAnswers(tx, writes);
      return writeCreated(
        tx,
        writes.map(({ write }) => write),
      );
    });
  } catch (error) {
    if (error instanceof CommitOutcomeUnknown) {
      ctx.logger.warn(
        { err: error, requests: requests.length, decided: decided.length },
        'booking batch commit went unanswered; reading its bookings back',
      );
      const committed = await settleUnknownCommit(ctx, [
        ...decided.map(({ index }) => uncommitted(index, 'unknown')),
        ...unanswered.map((index) => uncommitted(index, 'unknown')),
      ]);
      // The ones that did not commit took nothing once their events were rebuilt: booked alone.
      // Not read back, whether they committed is still unknown: booked again, one that did would
      // find itself as the person's booking and be answered 409.
      for (const { index } of decided) {
        if (!committed) outcomes[index] = { status: 'rejected', reason: error };
        else {
          const view = committed.get(bookingIds[index] as string);
          outcomes[index] = view ? { status: 'fulfilled', value: view } : alone;
        }
      }
      return outcomes;
    }
    // Nothing of the batch committed. Its decisions are written again one by one, in the
    // requests' order, each as it was taken while it still holds: a failure that concerns one
    // request (or none, as a deadlock) must not give the others' seats and places to whoever
    // came after them, as giving them back and booking them anew would.
    ctx.logger.warn(
      { err: error, requests: requests.length, decided: decided.length },
      'booking batch failed; writing its decisions one by one',
    );
    const lost = unanswered.map((index) => uncommitted(index, 'unknown'));
    const unknown: { index: number; error: CommitOutcomeUnknown }[] = [];
    // Postgres or Redis unreachable: the rest are not tried one by one, each waiting its turn.
    let unreachable = false;
    for (const { index, decision } of decided) {
      const kept = unreachable
        ? 'lost'
        : await keepDecision(
            ctx,
            requests[index] as BookRequest,
            bookingIds[index] as string,
            decision,
          );
      if (kept === 'unreachable') unreachable = true;
      if (kept === 'lost' || kept === 'unreachable') lost.push(uncommitted(index, decision));
      else if (kept instanceof CommitOutcomeUnknown) unknown.push({ index, error: kept });
      else outcomes[index] = { status: 'fulfilled', value: kept };
    }
    // Given back once every other decision is written, so a promotion it makes finds them all.
    await giveBack(ctx, lost);
    if (unknown.length > 0) {
      const committed = await settleUnknownCommit(
        ctx,
        unknown.map(({ index }) => uncommitted(index, 'unknown')),
      );
      for (const { index, error } of unknown) {
        const view = committed?.get(bookingIds[index] as string);
        if (view) outcomes[index] = { status: 'fulfilled', value: view };
        else if (!committed) outcomes[index] = { status: 'rejected', reason: error };
      }
    }
    return outcomes;
  }
  if (unanswered.length > 0)
    await giveBack(
      ctx,
      unanswered.map((index) => uncommitted(index, 'unknown')),
    );
  decided.forEach(({ index, decision }, i) => {
    const view = acknowledgeCreated(
      ctx,
      bookingIds[index] as string,
      decision,
      written[i] as (typeof written)[number],
    );
    outcomes[index] = { status: 'fulfilled', value: view };
  });
  return outcomes;
}

/**
 * A decision of a failed batch, written again in a transaction of its own, as a booking alone is
 * (the same locks and checks) but with no new decision: only while Redis still holds it
 * (`Inventory.holds`). Answers the booking, `lost` (it no longer holds, or failed again: the
 * caller gives it back and books the request alone), `unreachable` (lost too, for want of
 * Postgres or Redis) or the `CommitOutcomeUnknown` of a COMMIT that went unanswered.
 */
async function keepDecision(
  ctx: BookingContext,
  request: BookRequest,
  bookingId: string,
  decision: Decided,
): Promise<BookingView | 'lost' | 'unreachable' | CommitOutcomeUnknown> {
  let written: Awaited<ReturnType<typeof writeCreated>>[number] | undefined;
  try {
    [written] = await pipelinedTransaction(ctx.db, async (tx) => {
      const event = await lockAndCheckNewBooking(ctx, tx, request, bookingId);
      if (!(await ctx.inventory.holds(request.eventId, bookingId, decision)))
        throw new DecisionLost();
      const write = createdWrite(request, bookingId, event, decision);
      await keepCreatedAnswers(tx, [{ request, decision, write }]);
      return writeCreated(tx, [write]);
    });
  } catch (error) {
    if (error instanceof CommitOutcomeUnknown) return error;
    if (error instanceof DecisionLost) return 'lost';
    ctx.logger.warn({ err: error, eventId: request.eventId }, 'a batch decision failed again');
    return isDependencyUnavailable(error) ? 'unreachable' : 'lost';
  }
  if (!written) throw new Error('a committed booking has no write');
  return acknowledgeCreated(ctx, bookingId, decision, written);
}

/** A failed batch's decision that Redis no longer holds as it was taken. */
class DecisionLost extends Error {}

const bookingInProgress = () =>
  new DomainError('BOOKING_IN_PROGRESS', 409, 'A booking of yours for this event is in progress.');

const alone: PromiseFulfilledResult<BatchedBooking> = { status: 'fulfilled', value: 'alone' };
