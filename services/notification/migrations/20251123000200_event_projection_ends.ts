import { type Kysely, sql } from 'kysely';

/**
 * The latest end known of each event the holders and versions projections keep, so the
 * retention job can delete them once the event is long over (`NOTIFICATION_RETENTION_DAYS` after
 * that end). Filled in from the versions known (each row of an event carries the event's latest);
 * holders of an event no update told of keep a NULL end until their booking changes again, and
 * are kept until then.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE event_versions ADD COLUMN event_ends_at timestamptz`.execute(db);
  await sql`
    UPDATE event_versions v SET event_ends_at = latest.ends_at
    FROM (SELECT event_id, max((details->>'endsAt')::timestamptz) AS ends_at
          FROM event_versions GROUP BY event_id) latest
    WHERE latest.event_id = v.event_id`.execute(db);
  await sql`ALTER TABLE event_holders ADD COLUMN event_ends_at timestamptz`.execute(db);
  await sql`
    UPDATE event_holders h SET event_ends_at = latest.ends_at
    FROM (SELECT event_id, max(event_ends_at) AS ends_at FROM event_versions GROUP BY event_id) latest
    WHERE latest.event_id = h.event_id`.execute(db);
  await sql`
    CREATE INDEX IF NOT EXISTS event_versions_event_ends_at_idx ON event_versions (event_ends_at)`.execute(
    db,
  );
  await sql`
    CREATE INDEX IF NOT EXISTS event_holders_event_ends_at_idx ON event_holders (event_ends_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE event_holders DROP COLUMN event_ends_at`.execute(db);
  await sql`ALTER TABLE event_versions DROP COLUMN event_ends_at`.execute(db);
}
