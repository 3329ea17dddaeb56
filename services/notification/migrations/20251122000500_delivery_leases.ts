import { type Kysely, sql } from 'kysely';

/**
 * A worker claims a notification for one send with a lease (`lease_token`, `leased_until`) that it
 * renews while the provider answers, instead of a row lock held for the whole provider call: a
 * stalled provider must not hold database connections. A lease that runs out unrenewed belongs
 * to a worker that died mid-send; the pending sweep hands its notification out again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE notifications
      ADD COLUMN lease_token uuid,
      ADD COLUMN leased_until timestamptz`.execute(db);
  await sql`
    CREATE INDEX notifications_leased_idx ON notifications (leased_until)
      WHERE status = 'pending' AND leased_until IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS notifications_leased_idx`.execute(db);
  await sql`
    ALTER TABLE notifications
      DROP COLUMN leased_until,
      DROP COLUMN lease_token`.execute(db);
}
