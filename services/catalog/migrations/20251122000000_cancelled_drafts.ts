import { type Kysely, sql } from 'kysely';

/**
 * A draft may be cancelled without ever being published: a cancelled event has a publication
 * time only if it was published; a draft never has one, an upcoming, ongoing or completed event
 * always does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE events
      DROP CONSTRAINT events_published_at,
      ADD CONSTRAINT events_published_at CHECK (CASE status
        WHEN 'draft' THEN published_at IS NULL
        WHEN 'cancelled' THEN true
        ELSE published_at IS NOT NULL END)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE events
      DROP CONSTRAINT events_published_at,
      ADD CONSTRAINT events_published_at CHECK ((status = 'draft') = (published_at IS NULL)) NOT VALID`.execute(
    db,
  );
}
