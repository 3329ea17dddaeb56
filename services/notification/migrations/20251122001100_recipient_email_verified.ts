import { type Kysely, sql } from 'kysely';

/**
 * Whether identity verified a recipient's email: an invite to an address is linked to the person
 * holding it only when it is verified, or an account claiming someone else's address unverified
 * would see that address's invites in its own list. NULL for details announced before
 * `user_registered` said so: not verified.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE recipients ADD COLUMN email_verified boolean`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE recipients DROP COLUMN email_verified`.execute(db);
}
