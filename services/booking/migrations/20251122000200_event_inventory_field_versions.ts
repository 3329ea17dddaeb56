import { type Kysely, sql } from 'kysely';

/**
 * An event's capacity and status each follow the catalog version that last set them, apart from
 * its details (`catalog_version`, the last snapshot applied): a capacity or status change applied
 * before an older snapshot must not hold that snapshot's details back, nor the snapshot undo it.
 * The defaults let a replica still running the code before this change write rows during a
 * rolling upgrade.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE event_inventory
      ADD COLUMN slots_version integer NOT NULL DEFAULT 0,
      ADD COLUMN status_version integer NOT NULL DEFAULT 0`.execute(db);
  await sql`
    UPDATE event_inventory
      SET slots_version = catalog_version, status_version = catalog_version`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    UPDATE event_inventory
      SET catalog_version = GREATEST(catalog_version, slots_version, status_version)`.execute(db);
  await sql`
    ALTER TABLE event_inventory
      DROP COLUMN slots_version,
      DROP COLUMN status_version`.execute(db);
}
