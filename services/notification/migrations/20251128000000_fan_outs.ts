import { type Kysely, sql } from 'kysely';

/**
 * How far a fan-out to an event's holders has come: it is written in chunks, each committed with
 * the holder it reached, so a redelivery after a failure mid-way goes on after that holder
 * instead of starting over. Gone once the fan-out is done (its inbox entry then says so).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE fan_outs (
      source_event_id uuid PRIMARY KEY,
      reached_user_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE fan_outs`.execute(db);
}
