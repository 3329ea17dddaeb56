import { type Kysely, sql } from 'kysely';

/**
 * A membership's version, taken from one sequence for all memberships at its creation and at each
 * role change: PATCH takes it in `If-Match`. A sequence rather than a per-row counter, so a
 * member removed and invited back never gets a version an old read still holds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE SEQUENCE organization_users_version AS integer`.execute(db);
  await sql`ALTER TABLE organization_users
    ADD COLUMN version integer NOT NULL DEFAULT nextval('organization_users_version')`.execute(db);
  await sql`ALTER SEQUENCE organization_users_version OWNED BY organization_users.version`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE organization_users DROP COLUMN version`.execute(db);
}
