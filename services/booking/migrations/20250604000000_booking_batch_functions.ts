import { type Kysely, sql } from 'kysely';

/**
 * Functions that let several new bookings share one transaction (see `book.batch.ts`):
 *
 * - `lock_for_new_bookings`: `lock_for_new_booking` for a list of requests, in one round trip:
 *   each distinct event's lock shared (try, in event id order), then the id lock of every
 *   booking whose event lock was taken, then per request (in the order given) the event, the
 *   caller's active booking and the caller's role in the event's organization, read with a
 *   snapshot taken after the locks. A request whose event lock a rebuild holds answers
 *   `shared = false` and nothing else.
 * - `append_created_bookings`: the `created` history entry, the `bookings` row and the
 *   `booking_seats` rows of each new booking, in the order given, then the outbox rows; answers
 *   each booking's row timestamps.
 * - `lock_for_cancels`: `lock_for_cancel` for several cancellations of one event (see
 *   `cancel.batch.ts`): the event lock shared (try), the release lock, every booking's row lock
 *   (in id order), then per cancellation (in the order given) the booking's owner and history and
 *   the caller's role, with the event, read after the locks. When the try fails it answers one
 *   row with `shared = false` and takes nothing else.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION lock_for_new_bookings(p_requests jsonb)
    RETURNS TABLE (
      n integer, shared boolean, active_booking_id uuid, caller_role text,
      event_id uuid, org_id uuid, name text, starts_at timestamptz, ends_at timestamptz,
      total_slots integer, waitlist_policy text, max_seats_per_booking integer, status text,
      visibility text, catalog_version integer, created_at timestamptz, updated_at timestamptz
    ) LANGUAGE plpgsql VOLATILE AS $fn$
    #variable_conflict use_column
    DECLARE
      held uuid[] := '{}';
      ev uuid;
      req record;
    BEGIN
      FOR ev IN
        SELECT DISTINCT (r.value->>'eventId')::uuid AS id
        FROM jsonb_array_elements(p_requests) AS r(value) ORDER BY 1
      LOOP
        IF pg_try_advisory_xact_lock_shared(hashtextextended('inventory:' || ev, 0)) THEN
          held := held || ev;
        END IF;
      END LOOP;
      FOR req IN
        SELECT r.value->>'bookingId' AS booking_id
        FROM jsonb_array_elements(p_requests) AS r(value)
        WHERE (r.value->>'eventId')::uuid = ANY (held)
        ORDER BY 1
      LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended('booking:' || req.booking_id, 0));
      END LOOP;
      RETURN QUERY
        SELECT x.n::integer, true,
          (SELECT b.id FROM bookings b
            WHERE b.event_id = x.event_id AND b.user_id = x.user_id
              AND b.status IN ('confirmed', 'waiting')
            LIMIT 1),
          (SELECT m.role FROM memberships m
            WHERE m.organization_id = e.org_id AND m.user_id = x.user_id),
          e.event_id, e.org_id, e.name, e.starts_at, e.ends_at, e.total_slots, e.waitlist_policy,
          e.max_seats_per_booking, e.status, e.visibility, e.catalog_version, e.created_at,
          e.updated_at
        FROM (
          SELECT r.n, (r.value->>'eventId')::uuid AS event_id, r.value->>'userId' AS user_id
          FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS r(value, n)
        ) x
        LEFT JOIN event_inventory e ON e.event_id = x.event_id
        WHERE x.event_id = ANY (held)
        UNION ALL
        SELECT r.n::integer, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
          NULL, NULL, NULL, NULL, NULL
        FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS r(value, n)
        WHERE NOT ((r.value->>'eventId')::uuid = ANY (held));
    END
    $fn$`.execute(db);

  await sql`
    CREATE FUNCTION append_created_bookings(p_bookings jsonb, p_outbox jsonb)
    RETURNS TABLE (id uuid, created_at timestamptz, updated_at timestamptz)
    LANGUAGE plpgsql VOLATILE AS $fn$
    #variable_conflict use_column
    BEGIN
      INSERT INTO booking_history (booking_id, event_id, version, action, details)
        SELECT (b.value->>'bookingId')::uuid, (b.value->>'eventId')::uuid, 1, 'created',
          b.value->'details'
        FROM jsonb_array_elements(p_bookings) WITH ORDINALITY AS b(value, n)
        ORDER BY b.n;
      RETURN QUERY
        INSERT INTO bookings (id, event_id, org_id, user_id, seats, status, waiting_number,
          cancelled_reason, version)
        SELECT (b.value->>'bookingId')::uuid, (b.value->>'eventId')::uuid,
          (b.value->>'orgId')::uuid, b.value->>'userId', (b.value->>'seats')::integer,
          b.value->>'status', (b.value->>'waitingNumber')::integer, NULL, 1
        FROM jsonb_array_elements(p_bookings) AS b(value)
        RETURNING id, created_at, updated_at;
      INSERT INTO booking_seats (booking_id, event_id, seat_no, status)
        SELECT (b.value->>'bookingId')::uuid, (b.value->>'eventId')::uuid, seat::integer,
          'booked'
        FROM jsonb_array_elements(p_bookings) AS b(value),
          jsonb_array_elements_text(b.value->'details'->'seatNumbers') AS seat;
      INSERT INTO outbox (message_id, routing_key, payload, aggregate_type, aggregate_id)
        SELECT o.value->>'id', o.value->>'type', o.value, o.value->'aggregate'->>'type',
          o.value->'aggregate'->>'id'
        FROM jsonb_array_elements(p_outbox) WITH ORDINALITY AS o(value, n)
        ORDER BY o.n;
    END
    $fn$`.execute(db);

  await sql`
    CREATE FUNCTION lock_for_cancels(
      event_key text, release_key text, p_event_id uuid, p_booking_ids uuid[], p_caller_ids text[]
    ) RETURNS TABLE (
      n integer, shared boolean, owner_id text, history jsonb, caller_role text,
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
      PERFORM 1 FROM bookings b WHERE b.id = ANY (p_booking_ids) ORDER BY b.id FOR UPDATE;
      RETURN QUERY
        SELECT c.n::integer, true, b.user_id,
          (SELECT jsonb_agg(jsonb_build_object('action', h.action, 'details', h.details)
              ORDER BY h.version)
            FROM booking_history h WHERE h.booking_id = b.id),
          (SELECT m.role FROM memberships m
            WHERE m.organization_id = e.org_id AND m.user_id = c.caller_id),
          e.event_id, e.org_id, e.name, e.starts_at, e.ends_at, e.total_slots, e.waitlist_policy,
          e.max_seats_per_booking, e.status, e.visibility, e.catalog_version, e.created_at,
          e.updated_at
        FROM unnest(p_booking_ids, p_caller_ids) WITH ORDINALITY AS c(booking_id, caller_id, n)
        JOIN bookings b ON b.id = c.booking_id
        JOIN event_inventory e ON e.event_id = p_event_id
        ORDER BY c.n;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS lock_for_cancels(text, text, uuid, uuid[], text[])`.execute(db);
  await sql`DROP FUNCTION IF EXISTS append_created_bookings(jsonb, jsonb)`.execute(db);
  await sql`DROP FUNCTION IF EXISTS lock_for_new_bookings(jsonb)`.execute(db);
}
