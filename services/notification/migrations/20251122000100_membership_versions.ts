import { type Kysely, sql } from 'kysely';

/**
 * Memberships follow the organization's event version: an event older than the one applied
 * changes nothing, and a removed member stays as a tombstone (role NULL) so a role change
 * delivered late cannot bring them back.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE memberships
      ALTER COLUMN role DROP NOT NULL,
      ADD COLUMN org_version integer NOT NULL DEFAULT 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM memberships WHERE role IS NULL`.execute(db);
  await sql`
    ALTER TABLE memberships
      DROP COLUMN org_version,
      ALTER COLUMN role SET NOT NULL`.execute(db);
}
