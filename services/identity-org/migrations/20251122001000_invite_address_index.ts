import { type Kysely, sql } from 'kysely';

/**
 * Invites to one address across every organization, newest first: the cap per address over all
 * organizations (INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS) counts them on each invite, and no other
 * index starts with the address (the pending one holds only pending invites, behind the
 * organization). IF NOT EXISTS: building it holds writes to the invites while it runs, so a
 * long-running installation builds it CONCURRENTLY under this name first and the migration
 * skips it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX IF NOT EXISTS organization_invites_address_idx
    ON organization_invites (lower(email), created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS organization_invites_address_idx`.execute(db);
}
