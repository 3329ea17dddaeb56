import { type Kysely, sql } from 'kysely';

/**
 * Finished notifications by when they finished, for the retention job that deletes those older
 * than `NOTIFICATION_RETENTION_DAYS`; pending ones have their own index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX notifications_finished_idx ON notifications (updated_at)
    WHERE status <> 'pending'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX notifications_finished_idx`.execute(db);
}
