import { type Kysely, sql } from 'kysely';

/**
 * Whether notification mails an invite. The cap over all organizations
 * (INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS) bounds the invitation emails one address receives, not
 * the invites organizations may create: counted on invites, one tenant could spend it and deny
 * every other organization, the address's own among them, an invite to that address for a day.
 * A full cap now leaves the invite unmailed (`mailed = false`) instead of refusing it. Every
 * invite before this one was mailed, hence the default; a constant default adds the column
 * without rewriting the table (PostgreSQL 11 and later).
 *
 * The cap counts only mailed invites, on each invite to the address, newest first. Unmailed ones
 * are as many as organizations care to create (each may create INVITES_PER_ADDRESS_PER_DAY a
 * day), so an index holding them too would have the count step over any number of them, each a
 * visit to the table, under the address's lock. So the count reads a partial index of mailed
 * invites: at most the cap's worth of its entries. IF NOT EXISTS, as before, for the column too:
 * a long-running installation adds the column and builds the index CONCURRENTLY under this name
 * first (see operations.md) and the migration skips them. The full index of 20251122001000 stays for now: the previous release,
 * still serving during a rollout, counts every invite through it; a later release drops it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE organization_invites ADD COLUMN IF NOT EXISTS mailed boolean NOT NULL DEFAULT true`.execute(
    db,
  );
  await sql`
    CREATE INDEX IF NOT EXISTS organization_invites_mailed_address_idx
    ON organization_invites (lower(email), created_at) WHERE mailed`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS organization_invites_mailed_address_idx`.execute(db);
  await sql`ALTER TABLE organization_invites DROP COLUMN mailed`.execute(db);
}
