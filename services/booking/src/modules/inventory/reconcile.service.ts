import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { BookingContext } from '../../context.ts';
import type { BookingDb } from '../../db/database.ts';
import { countBookings } from '../../metrics/booking.metrics.ts';
import { persistPromotions } from '../booking/promotion.writer.ts';
import { findEvent } from './event-inventory.repository.ts';
import { inventoryRebuilding, lockEventExclusive, lockEventReleases } from './event-lock.ts';

/**
 * Rebuilds an event's Redis inventory from Postgres: free seats = all seats minus booked ones,
 * waitlist = waiting bookings by waiting number, counters from the highest ones recorded. Holds
 * the event lock exclusively, so no decision is in flight meanwhile; whoever fits afterwards
 * (e.g. after a capacity raise) is promoted and recorded in the same transaction.
 *
 * A rebuild that fails drops the event's keys — before it lets go of the lock, unless taking the
 * lock or the COMMIT failed: Redis may then hold promotions Postgres did not record, or the
 * divergence the rebuild was called to repair, and no decision may be taken on either. The next
 * request finds the keys missing and rebuilds them. Postgres also records that it vouches for
 * no keys (`untrustKeys`, in the rebuild's transaction, its own writes undone), so that whatever
 * Redis refused to drop, or lost the drop of, no decision is taken on (see `RESERVE_LUA`) until a
 * rebuild goes through. Between a failed COMMIT and the drop, the keys the rebuild made are of a
 * generation Postgres does not record: nobody decides on them either.
 */
export async function reconcileEvent(
  ctx: BookingContext,
  eventId: string,
  meta: { correlationId: string; causationId?: string; onlyIfMissing?: boolean },
): Promise<{ promoted: string[] }> {
  let dropped = false;
  try {
    const result = await ctx.db.transaction().execute(async (trx) => {
      await lockEventExclusive(trx, eventId);
      await lockEventReleases(trx, eventId);
      await sql`SAVEPOINT rebuild`.execute(trx);
      try {
        return await rebuildLocked(ctx, trx, eventId, meta);
      } catch (error) {
        dropped = true;
        // Both, whether or not the drop went through: a drop Redis acknowledged can still be
        // lost (a failover), and the keys would come back vouched for.
        await dropDiverged(ctx, eventId);
        try {
          await sql`ROLLBACK TO SAVEPOINT rebuild`.execute(trx);
          await untrustKeys(trx, eventId);
        } catch (err) {
          ctx.logger.error({ err, eventId }, 'keys of a failed rebuild not recorded untrusted');
          throw error;
        }
        return { failure: error };
      }
    });
    if ('failure' in result) throw result.failure;
    await committedRebuild(ctx, eventId, result.generation);
    countBookings('promoted', result.promoted.length);
    ctx.wakeRelay();
    ctx.availability.touch(eventId);
    ctx.logger.info({ eventId, promoted: result.promoted.length }, 'inventory reconciled');
    return { promoted: result.promoted };
  } catch (error) {
    // The lock or the commit failed: whatever Redis holds is not known to be Postgres's either.
    if (!dropped) await dropDiverged(ctx, eventId);
    throw error;
  }
}

/**
 * Records that Postgres vouches for none of the event's Redis keys: a generation no keys carry.
 * Decisions then find them missing, and the rebuild that follows records its own generation.
 */
async function untrustKeys(trx: Transaction<BookingDb>, eventId: string): Promise<void> {
  await trx
    .updateTable('event_inventory')
    .set({ redis_generation: `untrusted:${randomUUID()}` })
    .where('event_id', '=', eventId)
    .execute();
}

/** What a rebuild did: whom it promoted, and the generation of the keys it made, if any. */
export interface Rebuilt {
  promoted: string[];
  /** Undefined when it made no keys (a closed event's were dropped, or they existed already). */
  generation?: string;
}

/**
 * The rebuild itself, in `trx`, which holds the event lock exclusively and the release lock. The
 * keys it makes stay pending until `committedRebuild` once `trx` has committed: a COMMIT that
 * fails lets go of the locks before anything can drop them, and nobody may decide on them. A
 * rebuild that fails drops the event's keys before it throws, while the locks are still held; if
 * `trx` then fails to commit, its caller drops them too (`dropDiverged`).
 */
export async function rebuildUnderLocks(
  ctx: BookingContext,
  trx: Transaction<BookingDb>,
  eventId: string,
  meta: { correlationId: string; causationId?: string; onlyIfMissing?: boolean },
): Promise<Rebuilt> {
  try {
    return await rebuildLocked(ctx, trx, eventId, meta);
  } catch (error) {
    await dropDiverged(ctx, eventId);
    throw error;
  }
}

async function rebuildLocked(
  ctx: BookingContext,
  trx: Transaction<BookingDb>,
  eventId: string,
  meta: { correlationId: string; causationId?: string; onlyIfMissing?: boolean },
): Promise<Rebuilt> {
  const event = await findEvent(trx, eventId);
  if (!event || !['upcoming', 'ongoing'].includes(event.status)) {
    await ctx.inventory.drop(eventId);
    return { promoted: [] };
  }
  // Requests that all found the keys missing reconcile one after the other: only the first works.
  if (meta.onlyIfMissing && (await keysVouchedFor(ctx, eventId, event))) return { promoted: [] };
  const booked = await trx
    .selectFrom('booking_seats')
    .select('seat_no')
    .where('event_id', '=', eventId)
    .where('status', '=', 'booked')
    .execute();
  const waiting = await trx
    .selectFrom('bookings')
    .select(['id', 'seats', 'waiting_number'])
    .where('event_id', '=', eventId)
    .where('status', '=', 'waiting')
    .orderBy('waiting_number')
    .execute();
  const counters = await sql<{ last_waiting: number | null; last_seq: number | null }>`
    SELECT
      (SELECT max(waiting_number) FROM bookings WHERE event_id = ${eventId}) AS last_waiting,
      (SELECT max((details->>'acceptedSeq')::int) FROM booking_history
        WHERE event_id = ${eventId} AND action = 'created') AS last_seq`.execute(trx);
  const { generation, promotions } = await ctx.inventory.rebuild(eventId, {
    totalSlots: event.totalSlots,
    policy: event.waitlistPolicy,
    lastWaitingNumber: counters.rows[0]?.last_waiting ?? 0,
    lastAcceptedSeq: counters.rows[0]?.last_seq ?? 0,
    bookedSeats: booked.map((b) => b.seat_no),
    waiting: waiting.map((w) => ({
      bookingId: w.id,
      seats: w.seats,
      waitingNumber: w.waiting_number ?? 0,
    })),
  });
  // Committed with the rebuild: requests name it in their decisions (see `trustedKeys` in
  // inventory.lua.ts), which clear the pending mark should it still be on.
  await trx
    .updateTable('event_inventory')
    .set({ redis_generation: generation })
    .where('event_id', '=', eventId)
    .execute();
  const promoted = await persistPromotions(trx, ctx.inventory, event, promotions, meta);
  return { promoted, generation };
}

/**
 * Whether the event's keys are those Postgres records (`event`, read under the exclusive event
 * lock), so a request that found them missing need not rebuild them: a rebuild before it made
 * them. Keys of a rebuild that committed but whose mark was lost (or is still on its way) are
 * marked committed here. With no generation recorded, keys not pending are. Keys whose last
 * release is not the one Postgres records hold a release whose transaction did not commit.
 */
async function keysVouchedFor(
  ctx: BookingContext,
  eventId: string,
  event: { redisGeneration: string | null; lastRelease: string | null },
): Promise<boolean> {
  const keys = await ctx.inventory.keysOf(eventId);
  if (!keys) return false;
  if (keys.lastRelease !== undefined && keys.lastRelease !== event.lastRelease) return false;
  const recorded = event.redisGeneration;
  if (recorded === null) return keys.pending === undefined;
  if (keys.generation !== recorded) return false;
  if (keys.pending !== undefined) await ctx.inventory.committed(eventId, keys.pending);
  return true;
}

/**
 * After the transaction of a rebuild that made keys (`generation`) committed: they may be decided
 * on. Never throws: keys left pending are marked by the next booking, which finds the generation
 * recorded (`trustedKeys` in inventory.lua.ts), or rebuilt by the next request that finds them missing.
 */
export async function committedRebuild(
  ctx: BookingContext,
  eventId: string,
  generation: string | undefined,
): Promise<void> {
  if (generation === undefined) return;
  await ctx.inventory
    .committed(eventId, generation)
    .catch((err) =>
      ctx.logger.warn(
        { err, eventId },
        'rebuilt inventory not marked committed; rebuilt again on use',
      ),
    );
}

/** Drops an event's keys whose state Postgres may not hold; never throws. */
export async function dropDiverged(ctx: BookingContext, eventId: string): Promise<void> {
  try {
    await ctx.inventory.drop(eventId);
  } catch (err) {
    ctx.logger.error({ err, eventId }, 'inventory not rebuilt and its keys not dropped');
  }
}

/**
 * `reconcileEvent` for a request that found the event's keys missing (or a seat Redis thought
 * free): a rebuild that fails answers 503 with Retry-After, as a rebuild in progress does.
 */
export async function rebuildForRequest(
  ctx: BookingContext,
  eventId: string,
  meta: { correlationId: string; onlyIfMissing: boolean },
): Promise<void> {
  try {
    await reconcileEvent(ctx, eventId, meta);
  } catch (err) {
    ctx.logger.error({ err, eventId }, 'rebuild for a request failed');
    throw inventoryRebuilding();
  }
}

/** The pass over every open event, as `reconcile_passes` names it. */
const ALL_EVENTS_PASS = 'all-events';

/** SQLSTATE of a relation that does not exist. */
export const UNDEFINED_TABLE = '42P01';

/**
 * Records that a pass over every open event has just gone through, whether or not one ran
 * lately (a replica's start-up pass): the replicas' scheduled passes count from it.
 */
export async function recordReconcilePass(db: Kysely<BookingDb>): Promise<void> {
  // A claim that any earlier pass leaves due.
  await claimReconcilePass(db, 0);
}

/**
 * Claims the scheduled pass when none started in the last `intervalMs` (less a tenth, so a
 * replica's own timer, firing a little early or late, still finds its next pass due). The claim
 * is one upsert: of replicas claiming at once, one gets it and the others find it taken. Returns
 * the claim (its time as Postgres prints it, microseconds kept, to release it by), or undefined.
 */
export async function claimReconcilePass(
  db: Kysely<BookingDb>,
  intervalMs: number,
): Promise<string | undefined> {
  const dueAfterMs = Math.floor(intervalMs * 0.9);
  const claimed = await db
    .insertInto('reconcile_passes')
    .values({ pass: ALL_EVENTS_PASS, started_at: sql<Date>`now()` })
    .onConflict((oc) =>
      oc
        .column('pass')
        .doUpdateSet({ started_at: sql<Date>`now()` })
        .where(
          'reconcile_passes.started_at',
          '<=',
          sql<Date>`now() - make_interval(secs => ${dueAfterMs / 1000})`,
        ),
    )
    .returning(sql<string>`started_at::text`.as('claim'))
    .executeTakeFirst();
  return claimed?.claim;
}

/** Gives back a claim whose pass did not go through: the next replica's timer finds it due. */
async function releaseReconcilePass(db: Kysely<BookingDb>, claim: string): Promise<void> {
  await db
    .updateTable('reconcile_passes')
    .set({ started_at: sql<Date>`'-infinity'::timestamptz` })
    .where('pass', '=', ALL_EVENTS_PASS)
    .where('started_at', '=', sql<Date>`${claim}::timestamptz`)
    .execute();
}

/**
 * The scheduled pass: every open event rebuilt, by whichever replica finds the pass due, so the
 * load on Postgres and Redis (and the exclusive event locks) does not grow with the replicas.
 * A pass that does not go through (`signal`, the service stopping, cutting it short, or its list
 * of events not read) gives its claim back. One whose events failed keeps it: their keys are
 * dropped and rebuilt on demand, and giving it back would have every replica run a pass each
 * interval for as long as one event keeps failing.
 * Returns the number of events reconciled, or undefined when another replica's pass is recent.
 */
export async function reconcileIfDue(
  ctx: BookingContext,
  intervalMs: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  if (signal?.aborted) return undefined;
  let claim: string | undefined;
  try {
    claim = await claimReconcilePass(ctx.db, intervalMs);
    if (claim === undefined) return undefined;
  } catch (error) {
    // Passes not recorded yet (their table's migration still to come): every replica runs its
    // own, as before there was a record.
    if ((error as { code?: string }).code !== UNDEFINED_TABLE) throw error;
  }
  const giveBack = () =>
    claim === undefined
      ? undefined
      : releaseReconcilePass(ctx.db, claim).catch((err: unknown) =>
          ctx.logger.warn({ err }, 'reconciliation pass not given back'),
        );
  try {
    const { done, wentThrough } = await reconcileAll(ctx, 'scheduled-reconcile', signal);
    if (!wentThrough) await giveBack();
    return done;
  } catch (error) {
    await giveBack();
    throw error;
  }
}

/**
 * Reconciles every open event; one failing event does not stop the others (its keys are dropped,
 * so its next request rebuilds them), `signal` (the service stopping) stops before the next
 * event. `wentThrough`: it was not cut short, every event was tried.
 */
export async function reconcileAll(
  ctx: BookingContext,
  correlationId: string,
  signal?: AbortSignal,
): Promise<{ done: number; wentThrough: boolean }> {
  const rows = await ctx.db
    .selectFrom('event_inventory')
    .select('event_id')
    .where('status', 'in', ['upcoming', 'ongoing'])
    .execute();
  let done = 0;
  let tried = 0;
  for (const { event_id } of rows) {
    if (signal?.aborted) break;
    tried += 1;
    try {
      await reconcileEvent(ctx, event_id, { correlationId });
      done += 1;
    } catch (error) {
      ctx.logger.error({ err: error, eventId: event_id }, 'reconciliation failed');
    }
  }
  if (done < tried) {
    ctx.logger.warn(
      { pass: correlationId, events: rows.length, failed: tried - done },
      'reconciliation pass ended with events not rebuilt (their keys dropped)',
    );
  }
  return { done, wentThrough: tried === rows.length };
}
