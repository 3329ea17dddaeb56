import { type Kysely, sql } from 'kysely';

/**
 * When the last pass over every open event started, shared by the replicas: a scheduled pass
 * runs on the replica that finds it due, not on every replica.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE reconcile_passes (
      pass text PRIMARY KEY,
      started_at timestamptz NOT NULL
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE reconcile_passes`.execute(db);
}
