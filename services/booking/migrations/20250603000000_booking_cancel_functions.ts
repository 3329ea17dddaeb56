import { type Kysely, sql } from 'kysely';

/**
 * Functions that keep a cancellation's round trips inside the per-event release lock few:
 *
 * - `lock_for_cancel`: the event lock shared (try), the release lock, the booking's row lock,
 *   then the booking's owner and history, the event and the caller's role, read with a snapshot
 *   taken after the locks. When the try fails (a rebuild holds the event) it answers
 *   `shared = false` and takes nothing else; the caller then waits for the lock and calls again.
 * - `load_bookings_for_update`: row locks on several bookings (in id order), then each row's
 *   history, read after the locks.
 * - `append_booking_events`: appends `cancelled` and `promoted` history entries in the order
 *   given and projects each into `bookings` / `booking_seats` right after it (so a seat one entry
 *   releases can be booked by the next), then writes the outbox rows in order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION lock_for_cancel(
      event_key text, release_key text, p_event_id uuid, p_booking_id uuid, p_caller_id text
    ) RETURNS TABLE (
      shared boolean, owner_id text, history jsonb, caller_role text,
      event_id uuid, org_id uuid, name text, starts_at timestamptz, ends_at timestamptz,
      total_slots integer, waitlist_policy text, max_seats_per_booking integer, status text,
      visibility text, catalog_version integer, created_at timestamptz, updated_at timestamptz
    ) LANGUAGE plpgsql VOLATILE AS $fn$
    #variable_conflict use_column
    BEGIN
      IF NOT pg_try_advisory_xact_lock_shared(hashtextextended(event_key, 0)) THEN
        shared := false;
        RETURN NEXT;
        RETURN;
      END IF;
      PERFORM pg_advisory_xact_lock(hashtextextended(release_key, 0));
      PERFORM 1 FROM bookings b WHERE b.id = p_booking_id FOR UPDATE;
      RETURN QUERY
        SELECT true, b.user_id,
          (SELECT jsonb_agg(jsonb_build_object('action', h.action, 'details', h.details)
              ORDER BY h.version)
            FROM booking_history h WHERE h.booking_id = b.id),
          (SELECT m.role FROM memberships m
            WHERE m.organization_id = e.org_id AND m.user_id = p_caller_id),
          e.event_id, e.org_id, e.name, e.starts_at, e.ends_at, e.total_slots, e.waitlist_policy,
          e.max_seats_per_booking, e.status, e.visibility, e.catalog_version, e.created_at,
          e.updated_at
        FROM bookings b JOIN event_inventory e ON e.event_id = p_event_id
        WHERE b.id = p_booking_id;
    END
    $fn$`.execute(db);

  await sql`
    CREATE FUNCTION load_bookings_for_update(p_ids uuid[])
    RETURNS TABLE (id uuid, history jsonb) LANGUAGE plpgsql VOLATILE AS $fn$
    #variable_conflict use_column
    BEGIN
      PERFORM 1 FROM bookings b WHERE b.id = ANY (p_ids) ORDER BY b.id FOR UPDATE;
      RETURN QUERY
        SELECT b.id,
          (SELECT jsonb_agg(jsonb_build_object('action', h.action, 'details', h.details)
              ORDER BY h.version)
            FROM booking_history h WHERE h.booking_id = b.id)
        FROM bookings b WHERE b.id = ANY (p_ids);
    END
    $fn$`.execute(db);

  await sql`
    CREATE FUNCTION append_booking_events(p_entries jsonb, p_outbox jsonb)
    RETURNS void LANGUAGE plpgsql VOLATILE AS $fn$
    DECLARE
      entry record;
    BEGIN
      FOR entry IN
        SELECT (x.value->>'bookingId')::uuid AS booking_id,
          (x.value->>'eventId')::uuid AS event_id, (x.value->>'version')::integer AS version,
          x.value->>'action' AS action, x.value->'details' AS details
        FROM jsonb_array_elements(p_entries) WITH ORDINALITY AS x(value, n)
        ORDER BY x.n
      LOOP
        INSERT INTO booking_history (booking_id, event_id, version, action, details)
        VALUES (entry.booking_id, entry.event_id, entry.version, entry.action, entry.details);
        IF entry.action = 'cancelled' THEN
          UPDATE bookings
            SET status = 'cancelled', cancelled_reason = entry.details->>'reason',
              version = entry.version
            WHERE id = entry.booking_id;
          IF NOT FOUND THEN RAISE EXCEPTION 'no booking %', entry.booking_id; END IF;
          UPDATE booking_seats SET status = 'released'
            WHERE booking_id = entry.booking_id AND event_id = entry.event_id
              AND status = 'booked';
        ELSIF entry.action = 'promoted' THEN
          UPDATE bookings SET status = 'confirmed', version = entry.version
            WHERE id = entry.booking_id;
          IF NOT FOUND THEN RAISE EXCEPTION 'no booking %', entry.booking_id; END IF;
          INSERT INTO booking_seats (booking_id, event_id, seat_no, status)
            SELECT entry.booking_id, entry.event_id, seat::integer, 'booked'
            FROM jsonb_array_elements_text(entry.details->'seatNumbers') AS seat;
        ELSE
          RAISE EXCEPTION 'append_booking_events does not write %', entry.action;
        END IF;
      END LOOP;
      INSERT INTO outbox (message_id, routing_key, payload, aggregate_type, aggregate_id)
        SELECT o.value->>'id', o.value->>'type', o.value, o.value->'aggregate'->>'type',
          o.value->'aggregate'->>'id'
        FROM jsonb_array_elements(p_outbox) WITH ORDINALITY AS o(value, n)
        ORDER BY o.n;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS append_booking_events(jsonb, jsonb)`.execute(db);
  await sql`DROP FUNCTION IF EXISTS load_bookings_for_update(uuid[])`.execute(db);
  await sql`DROP FUNCTION IF EXISTS lock_for_cancel(text, text, uuid, uuid, text)`.execute(db);
}
