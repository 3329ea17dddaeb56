import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE users (
      id text PRIMARY KEY,
      keycloak_id text NOT NULL UNIQUE CHECK (keycloak_id = id),
      email text NOT NULL,
      email_verified boolean NOT NULL DEFAULT false,
      full_name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX users_email_key ON users (lower(email))`.execute(db);

  await sql`
    CREATE TABLE organizations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      slug text NOT NULL UNIQUE,
      domain text,
      settings jsonb NOT NULL DEFAULT '{}'::jsonb,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
      owner_id text NOT NULL REFERENCES users (id),
      version integer NOT NULL DEFAULT 1,
      event_version integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE organization_users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id uuid NOT NULL REFERENCES organizations (id),
      user_id text NOT NULL REFERENCES users (id),
      role text NOT NULL CHECK (role IN ('orgAdmin', 'organizer', 'user')),
      permissions jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organization_id, user_id)
    )`.execute(db);
  await sql`CREATE INDEX organization_users_user_idx ON organization_users (user_id)`.execute(db);
  await sql`CREATE INDEX organization_users_page_idx ON organization_users (organization_id, created_at, user_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE organization_invites (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id uuid NOT NULL REFERENCES organizations (id),
      email text NOT NULL,
      role text NOT NULL CHECK (role IN ('orgAdmin', 'organizer', 'user')),
      token_hash text NOT NULL UNIQUE,
      invited_by text NOT NULL REFERENCES users (id),
      expires_at timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'expired', 'revoked')),
      accepted_by text REFERENCES users (id),
      accepted_at timestamptz,
      revoked_by text REFERENCES users (id),
      revoked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((status = 'accepted') = (accepted_by IS NOT NULL))
    )`.execute(db);
  // One live invite per address and organization: a new invite supersedes the pending one.
  await sql`
    CREATE UNIQUE INDEX organization_invites_pending_key
      ON organization_invites (organization_id, lower(email)) WHERE status = 'pending'`.execute(db);
  await sql`
    CREATE INDEX organization_invites_expiry_idx
      ON organization_invites (expires_at) WHERE status = 'pending'`.execute(db);
  await sql`CREATE INDEX organization_invites_page_idx ON organization_invites (organization_id, created_at, id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id),
      actor_id text,
      action text NOT NULL,
      entity_type text NOT NULL CHECK (entity_type IN ('organization', 'membership', 'invite')),
      entity_id text NOT NULL,
      before jsonb,
      after jsonb,
      request_id text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX audit_log_org_idx ON audit_log (organization_id, id DESC)`.execute(db);
  // The audit trail is evidence: rows may be added, never changed or removed.
  await sql`
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(db);

  for (const table of ['users', 'organizations', 'organization_users', 'organization_invites']) {
    await sql`
      CREATE TRIGGER ${sql.raw(`${table}_updated_at`)} BEFORE UPDATE ON ${sql.table(table)}
        FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS audit_log`.execute(db);
  await sql`DROP FUNCTION IF EXISTS audit_log_append_only()`.execute(db);
  await sql`DROP TABLE IF EXISTS organization_invites`.execute(db);
  await sql`DROP TABLE IF EXISTS organization_users`.execute(db);
  await sql`DROP TABLE IF EXISTS organizations`.execute(db);
  await sql`DROP TABLE IF EXISTS users`.execute(db);
}
