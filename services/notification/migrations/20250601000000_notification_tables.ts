import { type Kysely, sql } from 'kysely';

const TYPES = `'booking_confirmed', 'booking_waitlisted', 'booking_cancelled', 'waitlist_promoted',
  'event_updated', 'event_cancelled', 'org_invite'`;
const CHANNELS = `'email', 'sms', 'push'`;

export async function up(db: Kysely<unknown>): Promise<void> {
  // The platform migrations create it too; CREATE OR REPLACE keeps this migration self-contained.
  await sql`
    CREATE OR REPLACE FUNCTION update_updated_at_column() RETURNS trigger AS $$
    BEGIN NEW.updated_at = now(); RETURN NEW; END;
    $$ LANGUAGE plpgsql`.execute(db);

  await sql`
    CREATE TABLE recipients (
      user_id text PRIMARY KEY,
      email text NOT NULL,
      name text NOT NULL,
      phone text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX recipients_email_idx ON recipients (lower(email))`.execute(db);

  await sql`
    CREATE TABLE memberships (
      organization_id uuid NOT NULL,
      user_id text NOT NULL,
      role text NOT NULL CHECK (role IN ('orgAdmin', 'organizer', 'user')),
      PRIMARY KEY (organization_id, user_id)
    )`.execute(db);

  // One row per booking; a cancelled booking stays as a tombstone so a replayed older event
  // cannot bring it back, and so the event-cancelled notice still reaches bookings that the
  // booking service cancelled because of it before that notice arrived here.
  await sql`
    CREATE TABLE event_holders (
      booking_id uuid PRIMARY KEY,
      event_id uuid NOT NULL,
      org_id uuid NOT NULL,
      user_id text NOT NULL,
      status text NOT NULL CHECK (status IN ('confirmed', 'waiting', 'cancelled')),
      cancel_reason text CHECK (cancel_reason IN ('by_owner', 'by_organizer', 'event_cancelled')),
      booking_version integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX event_holders_event_idx ON event_holders (event_id, status)`.execute(db);

  await sql
    .raw(`
    CREATE TABLE templates (
      type text NOT NULL CHECK (type IN (${TYPES})),
      channel text NOT NULL CHECK (channel IN (${CHANNELS})),
      locale text NOT NULL,
      version integer NOT NULL CHECK (version > 0),
      subject text NOT NULL,
      body text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (type, channel, locale, version)
    )`)
    .execute(db);

  await sql
    .raw(`
    CREATE TABLE notification_preferences (
      user_id text NOT NULL,
      channel text NOT NULL CHECK (channel IN (${CHANNELS})),
      type text NOT NULL CHECK (type IN (${TYPES})),
      enabled boolean NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, channel, type)
    )`)
    .execute(db);

  await sql
    .raw(`
    CREATE TABLE notifications (
      id uuid PRIMARY KEY,
      org_id uuid,
      user_id text,
      recipient text NOT NULL,
      event_id uuid,
      booking_id uuid,
      type text NOT NULL CHECK (type IN (${TYPES})),
      channel text NOT NULL CHECK (channel IN (${CHANNELS})),
      locale text NOT NULL,
      template_version integer NOT NULL,
      subject text NOT NULL,
      body text NOT NULL,
      sealed_body text,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
      attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      last_error text,
      provider_message_id text,
      source_event_id uuid NOT NULL,
      correlation_id text NOT NULL,
      -- Millisecond precision: the list's keyset cursor carries it through a JavaScript Date.
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      sent_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (source_event_id, recipient, channel)
    )`)
    .execute(db);
  await sql`
    CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id DESC)`.execute(
    db,
  );
  await sql`
    CREATE INDEX notifications_pending_idx ON notifications (updated_at) WHERE status = 'pending'`.execute(
    db,
  );

  for (const table of [
    'recipients',
    'event_holders',
    'notification_preferences',
    'notifications',
  ]) {
    await sql
      .raw(`
        CREATE TRIGGER ${table}_updated_at BEFORE UPDATE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()`)
      .execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'notifications',
    'notification_preferences',
    'templates',
    'event_holders',
    'memberships',
    'recipients',
  ]) {
    await sql.raw(`DROP TABLE IF EXISTS ${table}`).execute(db);
  }
}
