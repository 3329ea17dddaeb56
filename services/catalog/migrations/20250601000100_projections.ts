import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Membership projection from identity events. A removed member stays as a tombstone (role NULL)
  // so that an older event delivered late cannot bring the membership back.
  await sql`
    CREATE TABLE memberships (
      organization_id uuid NOT NULL,
      user_id text NOT NULL,
      role text CHECK (role IN ('orgAdmin', 'organizer', 'user')),
      as_of timestamptz NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organization_id, user_id)
    )
  `.execute(db);
  await sql`CREATE INDEX memberships_user_idx ON memberships (user_id) WHERE role IS NOT NULL`.execute(
    db,
  );
  await sql`
    CREATE TRIGGER memberships_updated_at BEFORE UPDATE ON memberships
      FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()
  `.execute(db);

  // Availability projection from booking.availability_changed; only the highest sequence is kept.
  await sql`
    CREATE TABLE availability (
      event_id uuid PRIMARY KEY,
      org_id uuid NOT NULL,
      total_slots integer NOT NULL CHECK (total_slots >= 0),
      available_slots integer NOT NULL CHECK (available_slots >= 0),
      confirmed_seats integer NOT NULL CHECK (confirmed_seats >= 0),
      waitlist_length integer NOT NULL CHECK (waitlist_length >= 0),
      sequence bigint NOT NULL CHECK (sequence >= 0),
      updated_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);
  await sql`
    CREATE TRIGGER availability_updated_at BEFORE UPDATE ON availability
      FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE availability`.execute(db);
  await sql`DROP TABLE memberships`.execute(db);
}
