import type { DomainEvent, EventEnvelope } from '@happening/contracts';
import { sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { BookingContext } from '../../context.ts';
import type { BookingDb } from '../../db/database.ts';
import { countBookings } from '../../metrics/booking.metrics.ts';
import { type BookingCommand, decide } from '../booking/booking.decider.ts';
import { loadManyForUpdate } from '../booking/booking.repository.ts';
import { type StreamWrite, writeStreams } from '../booking/booking.writer.ts';
import { findEvent } from './event-inventory.repository.ts';
import { lockEventExclusive, lockEventReleases } from './event-lock.ts';
import { committedRebuild, rebuildUnderLocks, reconcileEvent } from './reconcile.service.ts';

type CatalogEvent = Extract<DomainEvent, { type: `catalog.${string}` }>;

/** A change of an event whose publish has not been handled yet: the message is retried. */
class EventNotOpenedYet extends Error {
  constructor(eventId: string) {
    super(`event ${eventId} is not opened here yet`);
    this.name = 'EventNotOpenedYet';
  }
}

/**
 * After a capacity or status change of a published event matched no row: fine when the row's
 * field was set by a newer catalog version (the change is late); otherwise its publish has not
 * landed — not here yet, here only as a draft (an update seen first), or committing concurrently
 * (the UPDATE could not see it, this read may) — and the change is retried.
 */
async function unlessOlderThanKnown(
  trx: Transaction<BookingDb>,
  eventId: string,
  field: 'slots_version' | 'status_version',
  version: number,
): Promise<void> {
  const known = await trx
    .selectFrom('event_inventory')
    .select(['status', field])
    .where('event_id', '=', eventId)
    .executeTakeFirst();
  if (!known || known.status === 'draft' || (known[field] as number) < version)
    throw new EventNotOpenedYet(eventId);
}

/** What a catalog event's transaction did, to act on once it commits. */
export interface CatalogOutcome {
  cancelled: number;
  promoted: number;
  /** Redis was changed (rebuilt or dropped) inside the transaction: availability is announced. */
  redisChanged: boolean;
  /** The generation of the keys rebuilt inside the transaction, pending until it commits. */
  generation?: string;
  /** The Redis follow-up failed (keys dropped if Redis allowed): rebuilt again on redelivery. */
  redisFailure?: unknown;
}

export const noCatalogOutcome = (): CatalogOutcome => ({
  cancelled: 0,
  promoted: 0,
  redisChanged: false,
});

/**
 * Applies a catalog event inside `trx` (the inbox transaction), then its Redis follow-up: a
 * rebuild of the event's keys from the changed projection, or dropping them. Both happen under
 * the event lock held exclusively (then the release lock, the order every path takes them), so
 * no booking or cancellation decides in between: none sees the new capacity or status in
 * Postgres while Redis still holds the old one (a lowered total's seats sold after the change was
 * known, a raised total's seats answered as taken). Rebuilt keys stay pending until the
 * transaction has committed (`afterCatalogEvent`), so none decides on a change whose COMMIT
 * failed after its locks were gone either. A Redis failure does not undo the change once the
 * event's keys are gone (a rebuild that cannot drop them fails the change, which comes back): it
 * is recorded in `outcome` and the message is redelivered once committed, which rebuilds again;
 * a Postgres failure fails the whole transaction.
 */
export async function applyCatalogEvent(
  ctx: BookingContext,
  trx: Transaction<BookingDb>,
  message: CatalogEvent,
  outcome: CatalogOutcome,
): Promise<void> {
  const eventId = message.data.eventId;
  await lockEventExclusive(trx, eventId);
  await lockEventReleases(trx, eventId);
  const followUp = await applyChange(ctx, trx, message, outcome);
  if (!followUp) return;
  // Whichever message lowered the total (its capacity change, or a later update's snapshot
  // handled first), the bookings it leaves unfittable go before the rebuild.
  if (followUp === 'reconcile') outcome.cancelled += await cancelUnfittable(trx, message);
  outcome.redisChanged = true;
  try {
    if (followUp === 'drop') await ctx.inventory.drop(eventId);
    else {
      const { promoted, generation } = await rebuildUnderLocks(ctx, trx, eventId, {
        correlationId: message.correlationId,
        causationId: message.id,
      });
      outcome.promoted = promoted.length;
      if (generation !== undefined) outcome.generation = generation;
    }
  } catch (error) {
    // Postgres refused part of the rebuild (its promotions): the transaction is aborted, and a
    // COMMIT would quietly roll it back. It fails as a whole instead, and the message comes back.
    if (error instanceof pg.DatabaseError) throw error;
    // Keys left as they were would go on selling the old capacity (or, pending, be marked
    // committed by a booking) once the change committed: gone, or the change does not commit.
    // A closed event's keys are harmless: no booking passes its status.
    if (followUp !== 'drop')
      await ctx.inventory.drop(eventId).catch(() => {
        throw error;
      });
    outcome.redisFailure = error;
  }
}

/** The projection's change; returns the Redis follow-up it needs. */
async function applyChange(
  ctx: BookingContext,
  trx: Transaction<BookingDb>,
  message: CatalogEvent,
  outcome: CatalogOutcome,
): Promise<'reconcile' | 'drop' | undefined> {
  const version = message.aggregate.version;
  switch (message.type) {
    case 'catalog.event_published':
    case 'catalog.event_updated': {
      const e = message.type === 'catalog.event_published' ? message.data : message.data.event;
      const snapshotVersion = Math.max(version, e.version);
      const details = {
        org_id: e.orgId,
        name: e.name,
        starts_at: new Date(e.startsAt),
        ends_at: new Date(e.endsAt),
        waitlist_policy: e.waitlistPolicy,
        max_seats_per_booking: e.maxSeatsPerBooking,
        visibility: e.visibility,
        catalog_version: snapshotVersion,
      };
      // An update of an event not known yet (delivered before its publish, or of a draft) is
      // recorded from its snapshot: a publish delivered after it is older and changes nothing.
      // Drafts are not bookable and no route shows them; their keys wait for the publish.
      const inserted = await trx
        .insertInto('event_inventory')
        .values({
          event_id: e.eventId,
          ...details,
          total_slots: e.totalSlots,
          slots_version: snapshotVersion,
          status: e.status,
          status_version: snapshotVersion,
        })
        .onConflict((oc) => oc.column('event_id').doNothing())
        .returning('event_id')
        .executeTakeFirst();
      if (!inserted) {
        // Each group of fields takes the snapshot unless a newer catalog version set it: a
        // capacity or status change handled first (they run side by side, or one was retried)
        // keeps its field and leaves the snapshot's details to apply. Redeliveries stop at the
        // inbox; the same version applies, since one change of the event can announce several
        // events with it (a PATCH of capacity and name sends event_capacity_changed and
        // event_updated).
        const known = trx.updateTable('event_inventory').where('event_id', '=', e.eventId);
        await known.set(details).where('catalog_version', '<=', snapshotVersion).execute();
        await known
          .set({ total_slots: e.totalSlots, slots_version: snapshotVersion })
          .where('slots_version', '<=', snapshotVersion)
          .execute();
        await known
          .set({ status: e.status, status_version: snapshotVersion })
          .where('status_version', '<=', snapshotVersion)
          .execute();
      }
      return e.status === 'draft' ? undefined : 'reconcile';
    }
    case 'catalog.event_capacity_changed': {
      const updated = await trx
        .updateTable('event_inventory')
        .set({ total_slots: message.data.totalSlots, slots_version: version })
        .where('event_id', '=', message.data.eventId)
        .where('slots_version', '<=', version)
        // A draft row is an update seen before the publish, which must still land.
        .where('status', '<>', 'draft')
        .executeTakeFirst();
      if (updated.numUpdatedRows > 0n) return 'reconcile';
      // Catalog announces capacity changes of published events only (a draft's goes in its
      // event_updated): this event's publish is still on its way, and the change is retried.
      await unlessOlderThanKnown(trx, message.data.eventId, 'slots_version', version);
      return undefined;
    }
    case 'catalog.event_status_changed': {
      const updated = await trx
        .updateTable('event_inventory')
        .set({ status: message.data.to, status_version: version })
        .where('event_id', '=', message.data.eventId)
        .where('status_version', '<=', version)
        .where('status', '<>', 'draft')
        .executeTakeFirst();
      // The clock moves published events only: one not here yet has its publish on the way.
      if (updated.numUpdatedRows === 0n)
        await unlessOlderThanKnown(trx, message.data.eventId, 'status_version', version);
      else if (message.data.to === 'completed')
        outcome.cancelled += await closeWaitlist(trx, message);
      return message.data.to === 'completed' ? 'drop' : undefined;
    }
    case 'catalog.event_cancelled': {
      outcome.cancelled = await cancelEverything(ctx, trx, message);
      return 'drop';
    }
    default:
      return undefined;
  }
}

/**
 * Cancels every active booking of a cancelled event, each with its own history entry and event;
 * `trx` holds the event's locks.
 */
async function cancelEverything(
  ctx: BookingContext,
  trx: Transaction<BookingDb>,
  message: EventEnvelope<'catalog.event_cancelled'>,
): Promise<number> {
  const { eventId, orgId, name, startsAt } = message.data;
  const version = message.aggregate.version;
  // Cancelled is final: the status takes the cancellation's version, so a publish or an update
  // that arrives late (retried, or handled concurrently) cannot reopen it. An event not known yet
  // (its publish still to come, or a draft never published) is recorded cancelled with no seats,
  // members-only; so is a draft known from its updates, whose snapshot said nothing of who may
  // see it once published, and whose details no late update may change.
  await trx
    .insertInto('event_inventory')
    .values({
      event_id: eventId,
      org_id: orgId,
      name,
      starts_at: new Date(startsAt),
      ends_at: new Date(startsAt),
      total_slots: 0,
      waitlist_policy: 'fifo',
      max_seats_per_booking: 1,
      status: 'cancelled',
      visibility: 'members',
      catalog_version: version,
      slots_version: version,
      status_version: version,
    })
    .onConflict((oc) =>
      oc.column('event_id').doUpdateSet({
        status: 'cancelled',
        status_version: sql`GREATEST(event_inventory.status_version, ${version})`,
        visibility: sql`CASE WHEN event_inventory.status = 'draft' THEN 'members'
          ELSE event_inventory.visibility END`,
        catalog_version: sql`CASE WHEN event_inventory.status = 'draft'
          THEN GREATEST(event_inventory.catalog_version, ${version})
          ELSE event_inventory.catalog_version END`,
      }),
    )
    .execute();
  const active = await trx
    .selectFrom('bookings')
    .select(['id', 'seats'])
    .where('event_id', '=', eventId)
    .where('status', 'in', ['confirmed', 'waiting'])
    .orderBy('created_at')
    .execute();
  const cancelled = await cancelBookings(trx, message, active, () => ({
    type: 'CancelBooking',
    reason: 'event_cancelled',
    cancelledBy: message.data.cancelledBy,
  }));
  ctx.logger.info({ eventId, cancelled }, 'event cancelled, bookings cancelled');
  return cancelled;
}

/**
 * Cancels the waiting bookings that ask for more seats than a lowered capacity has: they could
 * never be promoted, and under fifo each would hold up everyone behind it for good. The change is
 * the organizer's, so the cancellation is theirs, with a note saying why. `trx` holds the
 * event's locks.
 */
async function cancelUnfittable(
  trx: Transaction<BookingDb>,
  message: CatalogEvent,
): Promise<number> {
  const event = await findEvent(trx, message.data.eventId);
  if (!event) return 0;
  const { totalSlots } = event;
  const unfittable = await trx
    .selectFrom('bookings')
    .select(['id', 'seats'])
    .where('event_id', '=', event.eventId)
    .where('status', '=', 'waiting')
    .where('seats', '>', totalSlots)
    .orderBy('waiting_number')
    .execute();
  if (unfittable.length === 0) return 0;
  // A capacity change names its author; an update's snapshot, or a change published before
  // catalog named authors, does not: the organization stands in.
  const cancelledBy =
    (message.type === 'catalog.event_capacity_changed' ? message.data.changedBy : undefined) ??
    event.orgId;
  return cancelBookings(trx, message, unfittable, ({ seats }) => ({
    type: 'CancelBooking',
    reason: 'by_organizer',
    cancelledBy,
    note: `The event now has ${totalSlots} seats, fewer than the ${seats} this booking asks.`,
  }));
}

/**
 * Cancels the bookings still waiting when their event took place: its waitlist closed, and none of
 * them can be promoted any more. `trx` holds the event's locks.
 */
async function closeWaitlist(
  trx: Transaction<BookingDb>,
  message: EventEnvelope<'catalog.event_status_changed'>,
): Promise<number> {
  const waiting = await trx
    .selectFrom('bookings')
    .select(['id', 'seats'])
    .where('event_id', '=', message.data.eventId)
    .where('status', '=', 'waiting')
    .orderBy('waiting_number')
    .execute();
  return cancelBookings(trx, message, waiting, () => ({
    type: 'CancelBooking',
    reason: 'event_completed',
    cancelledBy: message.data.orgId,
  }));
}

/** Bookings a catalog event cancels per statement pair: a big event's thousands in few round trips. */
const CANCEL_CHUNK = 1_000;

/**
 * Cancels each booking, with its own history entry and event, caused by `message`: a chunk at a
 * time, its rows locked and streams read in one round trip and written in one statement (one
 * booking at a time, a cancelled event of 50,000 bookings held its locks for a minute).
 */
async function cancelBookings(
  trx: Transaction<BookingDb>,
  message: CatalogEvent,
  bookings: readonly { id: string; seats: number }[],
  command: (booking: { seats: number }) => Extract<BookingCommand, { type: 'CancelBooking' }>,
): Promise<number> {
  const event = await findEvent(trx, message.data.eventId);
  if (!event) return 0;
  const meta = { correlationId: message.correlationId, causationId: message.id };
  let cancelled = 0;
  for (let start = 0; start < bookings.length; start += CANCEL_CHUNK) {
    const chunk = bookings.slice(start, start + CANCEL_CHUNK);
    const states = await loadManyForUpdate(
      trx,
      chunk.map((booking) => booking.id),
    );
    const writes: StreamWrite[] = [];
    for (const booking of chunk) {
      const state = states.get(booking.id);
      if (!state) continue;
      const events = decide(command(booking), state);
      // Already cancelled (the event locks make it unlikely): nothing to record or count.
      if (events.length > 0) writes.push({ bookingId: booking.id, state, events });
    }
    if (writes.length > 0) await writeStreams(trx, event, writes, meta);
    cancelled += writes.length;
  }
  return cancelled;
}

/**
 * After a catalog event's transaction: counts what it did and signals the change; a redelivery
 * (`outcome` undefined: the first delivery may have died before its Redis follow-up) rebuilds.
 * Throws the follow-up's failure, so the message comes back and rebuilds then.
 */
export async function afterCatalogEvent(
  ctx: BookingContext,
  message: CatalogEvent,
  outcome: CatalogOutcome | undefined,
): Promise<void> {
  const eventId = message.data.eventId;
  if (!outcome) {
    await reconcileEvent(ctx, eventId, {
      correlationId: message.correlationId,
      causationId: message.id,
    });
    return;
  }
  await committedRebuild(ctx, eventId, outcome.generation);
  countBookings('cancelled', outcome.cancelled);
  countBookings('promoted', outcome.promoted);
  ctx.wakeRelay();
  if (outcome.redisChanged) ctx.availability.touch(eventId);
  if (outcome.redisFailure) throw outcome.redisFailure;
}
