import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE events (
      id uuid PRIMARY KEY,
      org_id uuid NOT NULL,
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
      description text NOT NULL DEFAULT '',
      category text NOT NULL CHECK (category IN
        ('concert', 'webinar', 'hackathon', 'conference', 'workshop', 'meetup', 'other')),
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      timezone text NOT NULL,
      venue text NOT NULL DEFAULT '',
      total_slots integer NOT NULL CHECK (total_slots BETWEEN 1 AND 100000),
      status text NOT NULL DEFAULT 'draft' CHECK (status IN
        ('draft', 'upcoming', 'ongoing', 'completed', 'cancelled')),
      visibility text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'members')),
      waitlist_policy text NOT NULL DEFAULT 'fifo' CHECK (waitlist_policy IN ('fifo', 'first_fit')),
      max_seats_per_booking integer NOT NULL DEFAULT 10 CHECK (max_seats_per_booking >= 1),
      published_at timestamptz,
      created_by text NOT NULL,
      version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, name), 'A') ||
        setweight(to_tsvector('english'::regconfig, description), 'B')
      ) STORED,
      CONSTRAINT events_time_order CHECK (starts_at < ends_at),
      -- Only a published event has a publication time, and every published one has it.
      CONSTRAINT events_published_at CHECK ((status = 'draft') = (published_at IS NULL))
    )
  `.execute(db);

  // Organizer views: one org's events by start time.
  await sql`CREATE INDEX events_org_idx ON events (org_id, starts_at, id)`.execute(db);
  await sql`CREATE INDEX events_starts_at_idx ON events (starts_at, id)`.execute(db);
  await sql`CREATE INDEX events_status_idx ON events (status)`.execute(db);
  // The public listing and the lifecycle job only ever look at published, not yet finished events.
  await sql`
    CREATE INDEX events_listed_idx ON events (starts_at, id)
      WHERE status IN ('upcoming', 'ongoing')
  `.execute(db);
  await sql`CREATE INDEX events_ongoing_end_idx ON events (ends_at) WHERE status = 'ongoing'`.execute(
    db,
  );
  await sql`CREATE INDEX events_search_idx ON events USING gin (search)`.execute(db);
  await sql`
    CREATE TRIGGER events_updated_at BEFORE UPDATE ON events
      FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE events`.execute(db);
}
