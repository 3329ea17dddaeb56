import { type Kysely, sql } from 'kysely';

/**
 * An organization's notifications newest first, for its orgAdmins' list, and its failed ones
 * alone (what they look for to retry: without their own index, a few failed ones among many
 * sent would be found by reading every row of the organization). IF NOT EXISTS: building them
 * holds writes to the whole table, so a long-running installation builds them CONCURRENTLY
 * under these names first (docs/operations.md) and the migration skips them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX IF NOT EXISTS notifications_org_idx
    ON notifications (org_id, created_at DESC, id DESC) WHERE org_id IS NOT NULL`.execute(db);
  await sql`
    CREATE INDEX IF NOT EXISTS notifications_org_failed_idx
    ON notifications (org_id, created_at DESC, id DESC)
    WHERE org_id IS NOT NULL AND status = 'failed'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS notifications_org_failed_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS notifications_org_idx`.execute(db);
}
