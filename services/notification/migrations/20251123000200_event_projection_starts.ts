import { type Kysely, sql } from 'kysely';

/**
 * The latest start known of each event the holders and versions projections keep, so the
 * retention job can delete them once the event is long over (`NOTIFICATION_RETENTION_DAYS` after
 * that start). Versions take theirs from their own snapshot; holders the latest of their event's
 * known versions. Holders of an event no update told of before this migration keep a NULL start
 * and are kept until their booking changes again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE event_versions ADD COLUMN starts_at timestamptz`.execute(db);
  await sql`UPDATE event_versions SET starts_at = (details->>'startsAt')::timestamptz`.execute(db);
  await sql`ALTER TABLE event_holders ADD COLUMN event_starts_at timestamptz`.execute(db);
  await sql`
    UPDATE event_holders h SET event_starts_at = v.starts_at
    FROM (SELECT event_id, max(starts_at) AS starts_at FROM event_versions GROUP BY event_id) v
    WHERE v.event_id = h.event_id`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS event_versions_starts_at_idx ON event_versions (starts_at)`.execute(
    db,
  );
  await sql`CREATE INDEX IF NOT EXISTS event_holders_event_starts_at_idx ON event_holders (event_starts_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE event_holders DROP COLUMN event_starts_at`.execute(db);
  await sql`ALTER TABLE event_versions DROP COLUMN starts_at`.execute(db);
}
