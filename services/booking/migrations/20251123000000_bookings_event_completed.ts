import { type Kysely, sql } from 'kysely';

/**
 * A booking still waiting when its event took place is cancelled with the reason
 * `event_completed`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE bookings DROP CONSTRAINT bookings_cancelled_reason_check,
      ADD CONSTRAINT bookings_cancelled_reason_check CHECK (cancelled_reason IN
        ('by_owner', 'by_organizer', 'event_cancelled', 'event_completed'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE bookings DROP CONSTRAINT bookings_cancelled_reason_check,
      ADD CONSTRAINT bookings_cancelled_reason_check CHECK (cancelled_reason IN
        ('by_owner', 'by_organizer', 'event_cancelled'))`.execute(db);
}
