import { type Kysely, sql } from 'kysely';

/**
 * The lists' filters, each in the lists' (starts_at, id) order. The public list by category walked
 * the listed events in start order until it had a page of that category: the whole listing for a
 * rare one. An organization's list by status walked the org's events (its future ones for
 * upcoming, all of them for drafts and cancelled ones). IF NOT EXISTS: a long-running
 * installation builds them CONCURRENTLY under these names first and the migration skips them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX IF NOT EXISTS events_listed_category_idx
    ON events (category, starts_at, id) WHERE status IN ('upcoming', 'ongoing')`.execute(db);
  await sql`
    CREATE INDEX IF NOT EXISTS events_org_status_idx
    ON events (org_id, status, starts_at, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS events_org_status_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS events_listed_category_idx`.execute(db);
}
