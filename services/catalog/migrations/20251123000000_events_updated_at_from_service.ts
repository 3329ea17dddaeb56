import { type Kysely, sql } from 'kysely';

/**
 * An event's updated_at comes from the service's clock, as its created_at and published_at do:
 * the trigger dated changes by Postgres' clock instead, so with the service's clock ahead a change
 * right after the create read as older than the event itself.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER events_updated_at ON events`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TRIGGER events_updated_at BEFORE UPDATE ON events
      FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()
  `.execute(db);
}
