import { type Kysely, sql } from 'kysely';

/**
 * An organization's notifications newest first, for its orgAdmins' list. IF NOT EXISTS:
 * building it holds writes to the whole table, so a long-running installation builds it
 * CONCURRENTLY under this name first (docs/operations.md) and the migration skips it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX IF NOT EXISTS notifications_org_idx
    ON notifications (org_id, created_at DESC, id DESC) WHERE org_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS notifications_org_idx`.execute(db);
}
