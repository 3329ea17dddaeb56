import { type Kysely, sql } from 'kysely';

/**
 * An event cancelled before booking learnt of it (its publish still to come, or a draft never
 * published) is recorded cancelled with no seats, so a late publish cannot reopen it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE event_inventory
      DROP CONSTRAINT event_inventory_total_slots_check,
      ADD CONSTRAINT event_inventory_total_slots_check
        CHECK (total_slots > 0 OR (total_slots = 0 AND status = 'cancelled'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM event_inventory WHERE total_slots = 0`.execute(db);
  await sql`
    ALTER TABLE event_inventory
      DROP CONSTRAINT event_inventory_total_slots_check,
      ADD CONSTRAINT event_inventory_total_slots_check CHECK (total_slots > 0)`.execute(db);
}
