import { type Kysely, sql } from 'kysely';

/**
 * A person's active booking of an event, which the delivery of each event update's notice looks
 * up (`holdsBooking`): with only `(event_id, status)` it read every holder of the event, so a
 * fan-out to N holders cost N² rows. IF NOT EXISTS: a long-running installation builds it
 * CONCURRENTLY under this name first (docs/operations.md) and the migration skips it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX IF NOT EXISTS event_holders_person_idx
    ON event_holders (event_id, user_id) WHERE status IN ('confirmed', 'waiting')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS event_holders_person_idx`.execute(db);
}
