import { randomUUID } from 'node:crypto';
import type { BookingContext } from '../../context.ts';
import { CommitOutcomeUnknown, pipelinedTransaction } from '../../db/pipelined.transaction.ts';
import { inventoryRebuilding } from '../inventory/event-lock.ts';
import { rebuildForRequest } from '../inventory/reconcile.service.ts';
import type { BookingView } from './booking.schemas.ts';
import { writeCreated } from './booking.writer.ts';
import {
  acknowledgeCreated,
  type BookRequest,
  createdWrite,
  type Decided,
  decidedOrThrow,
  giveBack,
  InventoryDivergence,
  InventoryMissing,
  keepCreatedAnswers,
  lockAndCheckNewBooking,
  settleUnknownCommit,
  translateWriteError,
} from './new-booking.ts';

export type { BookRequest } from './new-booking.ts';

/**
 * Books seats: the request joins a batch of concurrent ones that share one transaction
 * (`bookBatch`), which takes each person's lock first, with this request's token. What a batch
 * leaves to be done alone (an event being rebuilt, keys
 * missing in Redis, a batch write that failed) runs here as its own transaction around one Lua
 * decision, its BEGIN sent with the lock statement and its COMMIT with the write. When a
 * transaction fails, Redis is compensated before the error is answered.
 */
export async function bookSeats(ctx: BookingContext, request: BookRequest): Promise<BookingView> {
  const lockToken = randomUUID();
  try {
    const batched = await ctx.newBookings.submit({ ...request, lockToken });
    if (batched !== 'alone') return batched;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await attemptBooking(ctx, request);
      } catch (error) {
        // Missing keys, or a seat or waiting number Redis handed out again: rebuild from
        // Postgres and retry once.
        if (!(error instanceof InventoryMissing || error instanceof InventoryDivergence))
          throw error;
        // Gone again (a failed rebuild drops them), or a held seat or number handed out again
        // after the rebuild: the client retries later, once another rebuild (for a divergence)
        // has repaired Redis again.
        const retrying = attempt === 1;
        if (retrying || error instanceof InventoryDivergence)
          await rebuildForRequest(ctx, request.eventId, {
            correlationId: request.correlationId,
            onlyIfMissing: error instanceof InventoryMissing,
          });
        if (!retrying) throw inventoryRebuilding();
      }
    }
  } finally {
    // Only deletes the lock if this request took it. Left behind, it expires with its TTL, so a
    // failure here must not turn a booking's answer into an error.
    await ctx.inventory
      .unlock(request.eventId, request.userId, lockToken)
      .catch((err) =>
        ctx.logger.warn({ err, eventId: request.eventId }, 'booking lock not released'),
      );
  }
}

/** One booking in its own transaction: two round trips when nothing waits. */
async function attemptBooking(ctx: BookingContext, request: BookRequest): Promise<BookingView> {
  const bookingId = randomUUID();
  let decision: Decided | 'unknown' | undefined;
  let written: Awaited<ReturnType<typeof writeCreated>>[number] | undefined;
  try {
    [written] = await pipelinedTransaction(ctx.db, async (tx) => {
      const event = await lockAndCheckNewBooking(ctx, tx, request, bookingId);
      // Until Redis answers, a decision may have been taken: a lost answer counts as one.
      decision = 'unknown';
      const answer = await ctx.inventory.reserve(
        request.eventId,
        { bookingId, ...request },
        event.redisGeneration,
      );
      decision = undefined; // answered: MISSING and SEATS_TAKEN take nothing
      const decided = decidedOrThrow(answer);
      decision = decided;
      const write = createdWrite(request, bookingId, event, decided);
      await keepCreatedAnswers(tx, [{ request, decision: decided, write }]);
      return writeCreated(tx, [write]);
    });
  } catch (error) {
    if (error instanceof CommitOutcomeUnknown) {
      const committed = await settleUnknownCommit(ctx, [{ request, bookingId }]);
      const view = committed?.get(bookingId);
      if (view) return view;
      throw error;
    }
    // Nothing committed (a write or COMMIT Postgres refused): give back what Redis decided.
    if (decision) await giveBack(ctx, [{ request, bookingId, decision }]);
    throw await translateWriteError(ctx, error, request);
  }
  // Committed: whatever fails from here on must not give the seats back.
  if (!written || !decision || decision === 'unknown')
    throw new Error('a committed booking has no write');
  return acknowledgeCreated(ctx, bookingId, decision, written);
}
