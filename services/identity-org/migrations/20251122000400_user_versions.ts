import { type Kysely, sql } from 'kysely';

/**
 * A user's version, raised whenever their mirrored email or name changes: the version of the
 * `identity.user_registered` announcing them, so consumers keep the newest details. And when the
 * token they were last mirrored from was issued, so an older token still in use cannot flip them
 * back.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN mirrored_token_issued_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users DROP COLUMN version, DROP COLUMN mirrored_token_issued_at`.execute(
    db,
  );
}
