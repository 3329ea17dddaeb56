import { type Kysely, type RawBuilder, sql } from 'kysely';

/**
 * What a decision checks Redis's keys against, read under its locks with the rest of the event:
 *
 * - `redis_generation` (a column since `20251128000000`): the lock functions a booking or
 *   cancellation calls before its Redis decision answer it, and the decision is taken only on
 *   keys of that generation (see `RESERVE_LUA`), so keys Postgres no longer vouches for are never
 *   decided on.
 * - `last_release` (new): the token of the last cancellation transaction that released seats in
 *   Redis, written in that transaction; Redis keeps the token of the last release it ran. A
 *   cancellation, holding the release lock, finds them different when the release before it ran
 *   in Redis but its transaction did not commit (see `RELEASE_LUA`), and rebuilds instead of
 *   promoting past whoever that release promoted.
 *
 * A RETURNS TABLE cannot change in place: each function is dropped and created again, with the
 * same body otherwise (`down` restores them without the columns).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE event_inventory ADD COLUMN IF NOT EXISTS last_release text`.execute(db);
  await replaceLockFunctions(db, true);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await replaceLockFunctions(db, false);
  await sql`ALTER TABLE event_inventory DROP COLUMN IF EXISTS last_release`.execute(db);
}

const SIGNATURES = [
  'lock_for_new_booking(text, text, uuid, text)',
  'lock_for_new_bookings(jsonb)',
  'lock_for_cancel(text, text, uuid, uuid, text)',
  'lock_for_cancels(text, text, uuid, uuid[], text[])',
];

async function replaceLockFunctions(db: Kysely<unknown>, withMarks: boolean): Promise<void> {
  for (const signature of SIGNATURES) {
    await sql`DROP FUNCTION IF EXISTS ${sql.raw(signature)}`.execute(db);
  }
  await lockForNewBooking(withMarks).execute(db);
  await lockForNewBookings(withMarks).execute(db);
  await lockForCancel(withMarks).execute(db);
  await lockForCancels(withMarks).execute(db);
}

const generationColumn = (withMarks: boolean) =>
  sql.raw(withMarks ? ',\n      redis_generation text' : '');
const generationValue = (withMarks: boolean) => sql.raw(withMarks ? ', e.redis_generation' : '');
const releaseColumn = (withMarks: boolean) =>
  sql.raw(withMarks ? ',\n      last_release text' : '');
const releaseValue = (withMarks: boolean) => sql.raw(withMarks ? ', e.last_release' : '');
const generationNull = (withMarks: boolean) => sql.raw(withMarks ? ', NULL' : '');

const lockForNewBooking = (withMarks: boolean): RawBuilder<unknown> => sql`
    CREATE FUNCTION lock_for_new_booking(
      event_key text, booking_key text, p_event_id uuid, p_user_id text
    ) RETURNS TABLE (
      shared boolean, active_booking_id uuid,
      event_id uuid, org_id uuid, name text, starts_at timestamptz, ends_at timestamptz,
      total_slots integer, waitlist_policy text, max_seats_per_booking integer, status text,
      visibility text, catalog_version integer, created_at timestamptz, updated_at timestamptz${generationColumn(withMarks)}
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
          e.updated_at${generationValue(withMarks)}
        FROM event_inventory e WHERE e.event_id = p_event_id;
    END
    $fn$`;

const lockForNewBookings = (withMarks: boolean): RawBuilder<unknown> => sql`
    CREATE FUNCTION lock_for_new_bookings(p_requests jsonb)
    RETURNS TABLE (
      n integer, shared boolean, active_booking_id uuid, caller_role text,
      event_id uuid, org_id uuid, name text, starts_at timestamptz, ends_at timestamptz,
      total_slots integer, waitlist_policy text, max_seats_per_booking integer, status text,
      visibility text, catalog_version integer, created_at timestamptz, updated_at timestamptz${generationColumn(withMarks)}
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
          e.updated_at${generationValue(withMarks)}
        FROM (
          SELECT r.n, (r.value->>'eventId')::uuid AS event_id, r.value->>'userId' AS user_id
          FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS r(value, n)
        ) x
        LEFT JOIN event_inventory e ON e.event_id = x.event_id
        WHERE x.event_id = ANY (held)
        UNION ALL
        SELECT r.n::integer, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
          NULL, NULL, NULL, NULL, NULL${generationNull(withMarks)}
        FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS r(value, n)
        WHERE NOT ((r.value->>'eventId')::uuid = ANY (held));
    END
    $fn$`;

const lockForCancel = (withMarks: boolean): RawBuilder<unknown> => sql`
    CREATE FUNCTION lock_for_cancel(
      event_key text, release_key text, p_event_id uuid, p_booking_id uuid, p_caller_id text
    ) RETURNS TABLE (
      shared boolean, owner_id text, history jsonb, caller_role text,
      event_id uuid, org_id uuid, name text, starts_at timestamptz, ends_at timestamptz,
      total_slots integer, waitlist_policy text, max_seats_per_booking integer, status text,
      visibility text, catalog_version integer, created_at timestamptz, updated_at timestamptz${generationColumn(withMarks)}${releaseColumn(withMarks)}
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
          e.updated_at${generationValue(withMarks)}${releaseValue(withMarks)}
        FROM bookings b JOIN event_inventory e ON e.event_id = p_event_id
        WHERE b.id = p_booking_id;
    END
    $fn$`;

const lockForCancels = (withMarks: boolean): RawBuilder<unknown> => sql`
    CREATE FUNCTION lock_for_cancels(
      event_key text, release_key text, p_event_id uuid, p_booking_ids uuid[], p_caller_ids text[]
    ) RETURNS TABLE (
      n integer, shared boolean, owner_id text, history jsonb, caller_role text,
      event_id uuid, org_id uuid, name text, starts_at timestamptz, ends_at timestamptz,
      total_slots integer, waitlist_policy text, max_seats_per_booking integer, status text,
      visibility text, catalog_version integer, created_at timestamptz, updated_at timestamptz${generationColumn(withMarks)}${releaseColumn(withMarks)}
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
          e.updated_at${generationValue(withMarks)}${releaseValue(withMarks)}
        FROM unnest(p_booking_ids, p_caller_ids) WITH ORDINALITY AS c(booking_id, caller_id, n)
        JOIN bookings b ON b.id = c.booking_id
        JOIN event_inventory e ON e.event_id = p_event_id
        ORDER BY c.n;
    END
    $fn$`;
