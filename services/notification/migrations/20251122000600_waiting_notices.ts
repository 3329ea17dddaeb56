import { type Kysely, sql } from 'kysely';

/**
 * Notices for a person whose contact details have not arrived yet (identity's user_registered
 * not projected): the source event as it arrived, kept until that person's details are applied,
 * then written as notifications. One row per source event and person, so a redelivery adds
 * nothing; rows older than WAITING_NOTICE_EXPIRY_MS are pruned.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE waiting_notices (
      user_id text NOT NULL,
      source_event_id uuid NOT NULL,
      source_event jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, source_event_id)
    )`.execute(db);
  await sql`CREATE INDEX waiting_notices_created_idx ON waiting_notices (created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE waiting_notices`.execute(db);
}
