import { type Kysely, sql } from 'kysely';

/**
 * `skipped`: a notification whose channel its recipient turned off before it went out (it was
 * waiting for a retry, or an orgAdmin retried it later). Preferences are checked when a notice
 * is written and again when it is sent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE notifications
      DROP CONSTRAINT notifications_status_check,
      ADD CONSTRAINT notifications_status_check
        CHECK (status IN ('pending', 'sent', 'failed', 'skipped'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE notifications SET status = 'failed' WHERE status = 'skipped'`.execute(db);
  await sql`
    ALTER TABLE notifications
      DROP CONSTRAINT notifications_status_check,
      ADD CONSTRAINT notifications_status_check CHECK (status IN ('pending', 'sent', 'failed'))`.execute(
    db,
  );
}
