import { type Kysely, sql } from 'kysely';

/** Each creation counts the organizations its owner already has (ORGANIZATIONS_PER_OWNER). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX organizations_owner_idx ON organizations (owner_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX organizations_owner_idx`.execute(db);
}
