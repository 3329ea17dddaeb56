import { type Kysely, sql } from 'kysely';

/**
 * Events known to be cancelled, with the cancellation as it arrived: a booking notice handled
 * after it tells its person of the cancellation instead (they were not among the holders when the
 * cancellation fanned out).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE cancelled_events (
      event_id uuid PRIMARY KEY,
      cancellation jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE cancelled_events`.execute(db);
}
