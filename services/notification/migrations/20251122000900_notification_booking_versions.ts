import { type Kysely, sql } from 'kysely';

/**
 * The booking version (its booking event's aggregate version) a booking notice tells of, so a
 * notice overtaken by a newer one about the same booking is not sent after it: "you are on the
 * waitlist" must not follow "your seats are confirmed". NULL for notices not about a booking
 * change (and for those written before this column).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE notifications ADD COLUMN booking_version integer`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE notifications DROP COLUMN booking_version`.execute(db);
}
