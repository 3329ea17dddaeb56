import type { CancellationReason } from '@happening/contracts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';

type Db = Kysely<NotificationDb> | Transaction<NotificationDb>;

export interface HolderChange {
  bookingId: string;
  eventId: string;
  orgId: string;
  userId: string;
  status: 'confirmed' | 'waiting' | 'cancelled';
  cancelReason: CancellationReason | null;
  /** The booking's aggregate version: an older event never overwrites a newer state. */
  bookingVersion: number;
  /** The event's end as the booking event tells it (ISO-8601); absent from older ones. */
  eventEndsAt: string | undefined;
}

/**
 * Applies one booking event to the holders projection. A cancelled booking is final; any other
 * state applies only over an older one, so replays and late redeliveries change nothing.
 */
export async function applyHolderChange(db: Db, change: HolderChange): Promise<void> {
  await db
    .insertInto('event_holders')
    .values({
      booking_id: change.bookingId,
      event_id: change.eventId,
      org_id: change.orgId,
      user_id: change.userId,
      status: change.status,
      cancel_reason: change.cancelReason,
      booking_version: change.bookingVersion,
      // Its booking event's end, or a later one an update told of already (the booking service
      // may have decided before it applied that update).
      event_ends_at: sql<Date | null>`GREATEST(
        ${change.eventEndsAt === undefined ? null : new Date(change.eventEndsAt)}::timestamptz,
        (SELECT max(v.event_ends_at) FROM event_versions v WHERE v.event_id = ${change.eventId}))`,
    })
    .onConflict((oc) =>
      oc
        .column('booking_id')
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          cancel_reason: eb.ref('excluded.cancel_reason'),
          booking_version: eb.ref('excluded.booking_version'),
          event_ends_at: sql<Date>`GREATEST(event_holders.event_ends_at, excluded.event_ends_at)`,
        }))
        .where('event_holders.status', '<>', 'cancelled')
        .where((eb) =>
          eb.or([
            eb('excluded.status', '=', 'cancelled'),
            eb('event_holders.booking_version', '<', eb.ref('excluded.booking_version')),
          ]),
        ),
    )
    .execute();
}

/** Where the projection has a booking now; undefined when it never saw the booking. */
export async function holderStateOf(
  db: Db,
  bookingId: string,
): Promise<Pick<HolderChange, 'status' | 'cancelReason' | 'bookingVersion'> | undefined> {
  const row = await db
    .selectFrom('event_holders')
    .select(['status', 'cancel_reason', 'booking_version'])
    .where('booking_id', '=', bookingId)
    .executeTakeFirst();
  return (
    row && {
      status: row.status,
      cancelReason: row.cancel_reason,
      bookingVersion: row.booking_version,
    }
  );
}

/** A stretch of an event's holders by user id: after `after` (if given), up to `through` (if given). */
export interface HolderRange {
  after?: string | undefined;
  through?: string | undefined;
}

/**
 * People holding a confirmed or waiting booking for the event; with `includeCancelledWithEvent`
 * also those whose booking was cancelled because the event was. In user id order, those in
 * `range` only.
 */
export async function holdersOf(
  db: Db,
  eventId: string,
  includeCancelledWithEvent: boolean,
  range: HolderRange = {},
): Promise<string[]> {
  let query = holdersQuery(db, eventId, includeCancelledWithEvent);
  if (range.after !== undefined) query = query.where('user_id', '>', range.after);
  if (range.through !== undefined) query = query.where('user_id', '<=', range.through);
  const rows = await query.orderBy('user_id').execute();
  return rows.map((r) => r.user_id);
}

/**
 * The user id of the `count`-th holder (as `holdersOf` counts them) after `after`; undefined when
 * fewer are left. Where a fan-out's chunk ends.
 */
export async function nthHolderAfter(
  db: Db,
  eventId: string,
  includeCancelledWithEvent: boolean,
  after: string | undefined,
  count: number,
): Promise<string | undefined> {
  let query = holdersQuery(db, eventId, includeCancelledWithEvent);
  if (after !== undefined) query = query.where('user_id', '>', after);
  const row = await query
    .orderBy('user_id')
    .offset(count - 1)
    .limit(1)
    .executeTakeFirst();
  return row?.user_id;
}

function holdersQuery(db: Db, eventId: string, includeCancelledWithEvent: boolean) {
  return db
    .selectFrom('event_holders')
    .select('user_id')
    .distinct()
    .where('event_id', '=', eventId)
    .where((eb) =>
      includeCancelledWithEvent
        ? eb.or([
            eb('status', 'in', ['confirmed', 'waiting']),
            eb.and([eb('status', '=', 'cancelled'), eb('cancel_reason', '=', 'event_cancelled')]),
          ])
        : eb('status', 'in', ['confirmed', 'waiting']),
    );
}
