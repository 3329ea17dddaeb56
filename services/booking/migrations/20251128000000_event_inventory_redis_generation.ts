import { type Kysely, sql } from 'kysely';

/**
 * The generation of the Redis keys the event's last committed rebuild made: written in the
 * rebuild's transaction, so a request holding the event lock that finds those keys still marked
 * pending can tell that the rebuild committed and clear the mark itself.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE event_inventory ADD COLUMN IF NOT EXISTS redis_generation text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE event_inventory DROP COLUMN IF EXISTS redis_generation`.execute(db);
}
