import { type Kysely, sql } from 'kysely';

/**
 * `lock_for_new_booking`: what a new booking's transaction does before its Redis decision, in
 * one round trip and in this order: the event lock shared (try), the booking's own id lock, then
 * the event and the caller's active booking, read with a snapshot taken after the locks (a
 * volatile function's queries see what committed before them, unlike the calling statement's).
 * When the try fails (a rebuild holds the event) it answers `shared = false` and no event; the
 * caller then waits for the lock and reads again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION lock_for_new_booking(
      event_key text, booking_key text, p_event_id uuid, p_user_id text
    ) RETURNS TABLE (
      shared boolean, active_booking_id uuid,
      event_id uuid, org_id uuid, name text, starts_at timestamptz, ends_at timestamptz,
      total_slots integer, waitlist_policy text, max_seats_per_booking integer, status text,
      visibility text, catalog_version integer, created_at timestamptz, updated_at timestamptz
    ) LANGUAGE plpgsql VOLATILE AS $fn$
    #variable_conflict use_column
    DECLARE
      got boolean;
    BEGIN
      got := pg_try_advisory_xact_lock_shared(hashtextextended(event_key, 0));
      PERFORM pg_advisory_xact_lock(hashtextextended(booking_key, 0));
      IF NOT got THEN
        shared := false;
        RETURN NEXT;
        RETURN;
      END IF;
      RETURN QUERY
        SELECT true,
          (SELECT b.id FROM bookings b
            WHERE b.event_id = p_event_id AND b.user_id = p_user_id
              AND b.status IN ('confirmed', 'waiting')
            LIMIT 1),
          e.event_id, e.org_id, e.name, e.starts_at, e.ends_at, e.total_slots, e.waitlist_policy,
          e.max_seats_per_booking, e.status, e.visibility, e.catalog_version, e.created_at,
          e.updated_at
        FROM event_inventory e WHERE e.event_id = p_event_id;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS lock_for_new_booking(text, text, uuid, text)`.execute(db);
}
