import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // update_updated_at_column() comes from the platform migrations, applied before these.
  await sql`
    CREATE TABLE memberships (
      organization_id uuid NOT NULL,
      user_id text NOT NULL,
      role text NOT NULL CHECK (role IN ('orgAdmin', 'organizer', 'user')),
      PRIMARY KEY (organization_id, user_id)
    )`.execute(db);

  await sql`
    CREATE TABLE event_inventory (
      event_id uuid PRIMARY KEY,
      org_id uuid NOT NULL,
      name text NOT NULL,
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      total_slots integer NOT NULL CHECK (total_slots > 0),
      waitlist_policy text NOT NULL CHECK (waitlist_policy IN ('fifo', 'first_fit')),
      max_seats_per_booking integer NOT NULL CHECK (max_seats_per_booking > 0),
      status text NOT NULL CHECK (status IN ('draft', 'upcoming', 'ongoing', 'completed', 'cancelled')),
      visibility text NOT NULL CHECK (visibility IN ('public', 'members')),
      catalog_version integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX event_inventory_org_idx ON event_inventory (org_id)`.execute(db);

  // Append-only event log: the source every projection below is rebuilt from.
  await sql`
    CREATE TABLE booking_history (
      position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      booking_id uuid NOT NULL,
      event_id uuid NOT NULL,
      version integer NOT NULL CHECK (version > 0),
      action text NOT NULL CHECK (action IN ('created', 'cancelled', 'promoted')),
      details jsonb NOT NULL,
      occurred_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (booking_id, version)
    )`.execute(db);
  await sql`CREATE INDEX booking_history_event_idx ON booking_history (event_id)`.execute(db);
  await sql`
    CREATE RULE booking_history_no_update AS ON UPDATE TO booking_history DO INSTEAD NOTHING`.execute(
    db,
  );
  await sql`
    CREATE RULE booking_history_no_delete AS ON DELETE TO booking_history DO INSTEAD NOTHING`.execute(
    db,
  );

  await sql`
    CREATE TABLE bookings (
      id uuid PRIMARY KEY,
      event_id uuid NOT NULL,
      org_id uuid NOT NULL,
      user_id text NOT NULL,
      seats integer NOT NULL CHECK (seats > 0),
      status text NOT NULL CHECK (status IN ('confirmed', 'waiting', 'cancelled')),
      waiting_number integer,
      cancelled_reason text CHECK (cancelled_reason IN ('by_owner', 'by_organizer', 'event_cancelled')),
      version integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (status <> 'waiting' OR waiting_number IS NOT NULL)
    )`.execute(db);
  await sql`CREATE INDEX bookings_event_idx ON bookings (event_id, status, created_at, id)`.execute(
    db,
  );
  await sql`CREATE INDEX bookings_user_idx ON bookings (user_id, created_at, id)`.execute(db);
  // Postgres, not Redis, is the last guard: one active booking per person and event.
  await sql`
    CREATE UNIQUE INDEX bookings_one_active_per_user ON bookings (event_id, user_id)
    WHERE status IN ('confirmed', 'waiting')`.execute(db);
  await sql`
    CREATE UNIQUE INDEX bookings_waiting_number ON bookings (event_id, waiting_number)
    WHERE waiting_number IS NOT NULL`.execute(db);

  await sql`
    CREATE TABLE booking_seats (
      booking_id uuid NOT NULL REFERENCES bookings (id),
      event_id uuid NOT NULL,
      seat_no integer NOT NULL CHECK (seat_no > 0),
      status text NOT NULL CHECK (status IN ('booked', 'released')),
      PRIMARY KEY (booking_id, seat_no)
    )`.execute(db);
  // No seat is ever held twice, whatever Redis says.
  await sql`
    CREATE UNIQUE INDEX booking_seats_one_holder ON booking_seats (event_id, seat_no)
    WHERE status = 'booked'`.execute(db);

  await sql`
    CREATE TABLE availability_sequence (
      event_id uuid PRIMARY KEY,
      sequence bigint NOT NULL
    )`.execute(db);

  // Bookings take their times from the same transaction clock as their history rows (now()), so a
  // rebuild from booking_history reproduces them exactly.
  for (const table of ['event_inventory', 'bookings']) {
    await sql`
      CREATE TRIGGER ${sql.raw(`${table}_updated_at`)} BEFORE UPDATE ON ${sql.table(table)}
      FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'availability_sequence',
    'booking_seats',
    'bookings',
    'booking_history',
    'event_inventory',
    'memberships',
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
