import { type Kysely, sql } from 'kysely';

/**
 * A user's phone number, mirrored from the token's `phone_number` and announced with their
 * email and name, so notification can send SMS.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN phone text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users DROP COLUMN phone`.execute(db);
}
