import { type Kysely, sql } from 'kysely';

/**
 * The catalog version of the event details a notice tells, so an update handled late (after a
 * newer one) does not count as newer than what the newer update's notice told.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE notifications ADD COLUMN event_version integer`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE notifications DROP COLUMN event_version`.execute(db);
}
