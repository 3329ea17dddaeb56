import { type Kysely, sql } from 'kysely';

/** A membership's version, raised by each role change: PATCH takes it in `If-Match`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE organization_users ADD COLUMN version integer NOT NULL DEFAULT 1`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE organization_users DROP COLUMN version`.execute(db);
}
