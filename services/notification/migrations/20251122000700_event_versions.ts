import { type Kysely, sql } from 'kysely';

/**
 * The details of each catalog version of an event this service has learned of, from
 * `catalog.event_updated`: the update's own snapshot, and the version before it (the snapshot with
 * each changed field's old value). A booking notice decided by the booking service on details
 * since replaced is rendered with the newest ones, and an update older than the newest known
 * tells only what the newer one left as it said.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE event_versions (
      event_id uuid NOT NULL,
      catalog_version integer NOT NULL CHECK (catalog_version > 0),
      details jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (event_id, catalog_version)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE event_versions`.execute(db);
}
