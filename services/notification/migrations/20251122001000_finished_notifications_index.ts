import { type Kysely, sql } from 'kysely';

/**
 * Finished notifications by when they finished, for the retention job that deletes those older
 * than `NOTIFICATION_RETENTION_DAYS`; pending ones have their own index. IF NOT EXISTS: building
 * it holds writes to the whole table, so a long-running installation builds it CONCURRENTLY
 * under this name first (docs/operations.md) and the migration skips it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX IF NOT EXISTS notifications_finished_idx ON notifications (updated_at)
    WHERE status <> 'pending'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS notifications_finished_idx`.execute(db);
}
