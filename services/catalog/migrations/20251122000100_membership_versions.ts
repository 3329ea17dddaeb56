import { type Kysely, sql } from 'kysely';

/**
 * Memberships follow the organization's event version instead of the events' wall-clock time:
 * identity-org numbers every event of an organization, while clocks of its replicas may differ.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE memberships
      ADD COLUMN org_version integer NOT NULL DEFAULT 0,
      DROP COLUMN as_of`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE memberships
      ADD COLUMN as_of timestamptz NOT NULL DEFAULT now(),
      DROP COLUMN org_version`.execute(db);
}
