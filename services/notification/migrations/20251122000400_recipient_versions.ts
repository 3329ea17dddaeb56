import { type Kysely, sql } from 'kysely';

/**
 * The identity user version a recipient's details come from: a user's details are announced
 * again when they change, and an older announcement delivered late must not bring back an old
 * address.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE recipients ADD COLUMN user_version integer NOT NULL DEFAULT 1`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE recipients DROP COLUMN user_version`.execute(db);
}
