import type { Selectable } from 'kysely';
import type { EventsTable, Executor } from '../../database.ts';
import type { CatalogEvent } from './event.model.ts';

export type EventRow = Selectable<EventsTable>;

export function toEvent(row: EventRow): CatalogEvent {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    description: row.description,
    category: row.category,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    timezone: row.timezone,
    venue: row.venue,
    totalSlots: row.total_slots,
    status: row.status,
    visibility: row.visibility,
    waitlistPolicy: row.waitlist_policy,
    maxSeatsPerBooking: row.max_seats_per_booking,
    publishedAt: row.published_at,
    createdBy: row.created_by,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toColumns(event: CatalogEvent) {
  return {
    name: event.name,
    description: event.description,
    category: event.category,
    starts_at: event.startsAt,
    ends_at: event.endsAt,
    timezone: event.timezone,
    venue: event.venue,
    total_slots: event.totalSlots,
    status: event.status,
    visibility: event.visibility,
    waitlist_policy: event.waitlistPolicy,
    max_seats_per_booking: event.maxSeatsPerBooking,
    published_at: event.publishedAt,
    version: event.version,
    // From the service's clock, as created_at and published_at: no trigger dates events' changes.
    updated_at: event.updatedAt,
  };
}

export async function insertEvent(db: Executor, event: CatalogEvent): Promise<CatalogEvent> {
  const row = await db
    .insertInto('events')
    .values({
      ...toColumns(event),
      id: event.id,
      org_id: event.orgId,
      created_by: event.createdBy,
      created_at: event.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEvent(row);
}

/** Reads an event; `forUpdate` locks the row for the rest of the transaction. */
export async function findEvent(
  db: Executor,
  id: string,
  { forUpdate = false } = {},
): Promise<CatalogEvent | undefined> {
  const row = await db
    .selectFrom('events')
    .selectAll()
    .where('id', '=', id)
    .$if(forUpdate, (qb) => qb.forUpdate())
    .executeTakeFirst();
  return row && toEvent(row);
}

/**
 * Writes a changed event if nobody changed it in between (`version` still the one it was read
 * at); returns undefined when the version moved on.
 */
export async function saveEvent(
  db: Executor,
  event: CatalogEvent,
  readVersion: number,
): Promise<CatalogEvent | undefined> {
  const row = await db
    .updateTable('events')
    .set(toColumns(event))
    .where('id', '=', event.id)
    .where('version', '=', readVersion)
    .returningAll()
    .executeTakeFirst();
  return row && toEvent(row);
}
