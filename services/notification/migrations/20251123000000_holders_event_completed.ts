import { type Kysely, sql } from 'kysely';

/**
 * A booking still waiting when its event took place is cancelled with the reason
 * `event_completed` (`booking.booking_cancelled` version 2).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE event_holders DROP CONSTRAINT event_holders_cancel_reason_check,
      ADD CONSTRAINT event_holders_cancel_reason_check CHECK (cancel_reason IN
        ('by_owner', 'by_organizer', 'event_cancelled', 'event_completed'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE event_holders DROP CONSTRAINT event_holders_cancel_reason_check,
      ADD CONSTRAINT event_holders_cancel_reason_check CHECK (cancel_reason IN
        ('by_owner', 'by_organizer', 'event_cancelled'))`.execute(db);
}
