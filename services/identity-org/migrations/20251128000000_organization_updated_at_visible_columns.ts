import { type Kysely, sql } from 'kysely';

/**
 * An organization's `updated_at` moves only when something its representation shows changes:
 * every invite, join, role change and removal raises `event_version` (the order of its published
 * events), which no answer shows, and moved `updated_at` too behind an unchanged version and ETag.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS organizations_updated_at ON organizations`.execute(db);
  await sql`
    CREATE TRIGGER organizations_updated_at
      BEFORE UPDATE OF name, slug, domain, settings, status, owner_id, version ON organizations
      FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS organizations_updated_at ON organizations`.execute(db);
  await sql`
    CREATE TRIGGER organizations_updated_at BEFORE UPDATE ON organizations
      FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()`.execute(db);
}
