import { type Kysely, sql } from 'kysely';

/**
 * A user's version, raised whenever their mirrored contact details change: the version of the
 * `identity.user_registered` announcing them, so consumers keep the newest details.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN version integer NOT NULL DEFAULT 1`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users DROP COLUMN version`.execute(db);
}
