import { type ExpressionBuilder, type SelectQueryBuilder, sql } from 'kysely';
import type { CatalogDatabase, Executor } from '../../database.ts';
import type { AvailabilityFigures } from '../availability/availability.model.ts';
import { DUE_COLUMN, LISTED_STATUSES, routesTo } from '../lifecycle/lifecycle.policy.ts';
import type { CatalogEvent, EventCategory, EventStatus } from './event.model.ts';
import { type EventRow, toEvent } from './event.repository.ts';

/** A keyset position: the (starts_at, id) of the last event of the previous page. */
export interface ListPosition {
  startsAt: Date;
  id: string;
}

export interface ListedEvent {
  event: CatalogEvent;
  figures: AvailabilityFigures | undefined;
}

export interface PublicListFilter {
  viewerId: string;
  /** The clock's now: an event that has ended is not listed, even before the lifecycle job ran. */
  now: Date;
  q?: string | undefined;
  category?: EventCategory | undefined;
  orgId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  after?: ListPosition | undefined;
  /** Rows to fetch (a page's limit plus one, to know whether a next page exists). */
  take: number;
}

export interface OrgListFilter {
  orgId: string;
  /** The status the clock implies at `now` (`statusAt`), not the stored one. */
  status?: EventStatus | undefined;
  now: Date;
  after?: ListPosition | undefined;
  take: number;
}

type EventsQuery = SelectQueryBuilder<CatalogDatabase, 'events', object>;

function withFigures(query: EventsQuery) {
  return query
    .leftJoin('availability', 'availability.event_id', 'events.id')
    .selectAll('events')
    .select([
      'availability.total_slots as av_total_slots',
      'availability.available_slots as av_available_slots',
      'availability.confirmed_seats as av_confirmed_seats',
      'availability.waitlist_length as av_waitlist_length',
    ]);
}

type RowWithFigures = EventRow & {
  av_total_slots: number | null;
  av_available_slots: number | null;
  av_confirmed_seats: number | null;
  av_waitlist_length: number | null;
};

function toListed(row: RowWithFigures): ListedEvent {
  const figures =
    row.av_total_slots === null
      ? undefined
      : {
          totalSlots: row.av_total_slots,
          availableSlots: row.av_available_slots ?? 0,
          confirmedSeats: row.av_confirmed_seats ?? 0,
          waitlistLength: row.av_waitlist_length ?? 0,
        };
  return { event: toEvent(row), figures };
}

function afterPosition(eb: ExpressionBuilder<CatalogDatabase, 'events'>, after: ListPosition) {
  return eb(eb.refTuple('events.starts_at', 'events.id'), '>', eb.tuple(after.startsAt, after.id));
}

/**
 * Events whose status at `now` is `status` as `statusAt` judges it: the stored status, moved on by
 * the start and end times that passed, whether or not the lifecycle job has run. Plain comparisons
 * on the stored columns, so the (org_id, starts_at, id) order and its keyset stay as they were.
 */
function showsStatus(
  eb: ExpressionBuilder<CatalogDatabase, 'events'>,
  status: EventStatus,
  now: Date,
) {
  return eb.or(
    routesTo(status).map((route) =>
      eb.and([
        eb('events.status', '=', route.stored),
        ...route.passed.map((due) => eb(DUE_COLUMN[due], '<=', now)),
        ...(route.pending === undefined ? [] : [eb(DUE_COLUMN[route.pending], '>', now)]),
      ]),
    ),
  );
}

/** One event with the availability booking last reported for it. */
export async function findListedEvent(db: Executor, id: string): Promise<ListedEvent | undefined> {
  const row = await withFigures(db.selectFrom('events'))
    .where('events.id', '=', id)
    .executeTakeFirst();
  return row && toListed(row as RowWithFigures);
}

/**
 * Published, not yet finished events the viewer may see (public ones, and members-only ones of
 * its orgs), ordered by (starts_at, id), a total order, so unchanged events are never skipped or
 * repeated; but a PATCH can move an event's starts_at across a reader's cursor between two pages,
 * and that event is then skipped or listed twice. `from`/`to` keep the events that are on at some
 * point within the window.
 */
export async function listPublicEvents(db: Executor, f: PublicListFilter): Promise<ListedEvent[]> {
  const rows = await withFigures(db.selectFrom('events'))
    .where('events.status', 'in', LISTED_STATUSES)
    .where('events.ends_at', '>', f.now)
    .where((eb) =>
      eb.or([
        eb('events.visibility', '=', 'public'),
        eb(
          'events.org_id',
          'in',
          eb
            .selectFrom('memberships')
            .select('memberships.organization_id')
            .where('memberships.user_id', '=', f.viewerId)
            .where('memberships.role', 'is not', null),
        ),
      ]),
    )
    .$if(f.q !== undefined, (qb) =>
      qb.where(sql<boolean>`events.search @@ websearch_to_tsquery('english', ${f.q})`),
    )
    .$if(f.category !== undefined, (qb) => qb.where('events.category', '=', f.category!))
    .$if(f.orgId !== undefined, (qb) => qb.where('events.org_id', '=', f.orgId!))
    .$if(f.from !== undefined, (qb) => qb.where('events.ends_at', '>=', f.from!))
    .$if(f.to !== undefined, (qb) => qb.where('events.starts_at', '<=', f.to!))
    .$if(f.after !== undefined, (qb) => qb.where((eb) => afterPosition(eb, f.after!)))
    .orderBy('events.starts_at')
    .orderBy('events.id')
    .limit(f.take)
    .execute();
  return rows.map((row) => toListed(row as RowWithFigures));
}

/** Every event of one org (drafts included), by (starts_at, id), of one status if asked. */
export async function listOrgEvents(db: Executor, f: OrgListFilter): Promise<ListedEvent[]> {
  const rows = await withFigures(db.selectFrom('events'))
    .where('events.org_id', '=', f.orgId)
    .$if(f.status !== undefined, (qb) => qb.where((eb) => showsStatus(eb, f.status!, f.now)))
    .$if(f.after !== undefined, (qb) => qb.where((eb) => afterPosition(eb, f.after!)))
    .orderBy('events.starts_at')
    .orderBy('events.id')
    .limit(f.take)
    .execute();
  return rows.map((row) => toListed(row as RowWithFigures));
}
