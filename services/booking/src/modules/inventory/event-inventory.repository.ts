import type { Kysely, Transaction } from 'kysely';
import type { BookingDb, EventInventoryRow } from '../../db/database.ts';
import type { EventFacts } from '../booking/booking.policy.ts';

type Db = Kysely<BookingDb> | Transaction<BookingDb>;

export type EventRecord = EventFacts & {
  endsAt: Date;
  visibility: 'public' | 'members';
  catalogVersion: number;
  /**
   * The generation of the Redis keys Postgres vouches for (its last committed rebuild's, or one
   * no keys carry after a failed rebuild left keys it could not drop); null before generations
   * were recorded. Read under the event lock, decisions are taken on those keys only.
   */
  redisGeneration: string | null;
  /**
   * The token of the last cancellation transaction that committed a release in Redis (null before
   * any did): a cancellation decides only on keys whose last release it names (see `RELEASE_LUA`).
   */
  lastRelease: string | null;
};

export function toEventRecord(row: EventInventoryRow): EventRecord {
  return {
    eventId: row.event_id,
    orgId: row.org_id,
    name: row.name,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    totalSlots: row.total_slots,
    maxSeatsPerBooking: row.max_seats_per_booking,
    waitlistPolicy: row.waitlist_policy,
    status: row.status,
    visibility: row.visibility,
    catalogVersion: row.catalog_version,
    redisGeneration: row.redis_generation ?? null,
    lastRelease: row.last_release ?? null,
  };
}

/** The inventory projection of one event, if booking knows it. */
export async function findEvent(db: Db, eventId: string): Promise<EventRecord | undefined> {
  const row = await db
    .selectFrom('event_inventory')
    .selectAll()
    .where('event_id', '=', eventId)
    .executeTakeFirst();
  return row ? toEventRecord(row) : undefined;
}
