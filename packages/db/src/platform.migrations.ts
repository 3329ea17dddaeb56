import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Tables every service schema holds. Names are unqualified: they land in the schema the
 * connection's search_path selects. Frozen once shipped; changes go in a new entry.
 */
export const platformMigrations: Record<string, Migration> = {
  '2025_01_01_0001_platform_tables': {
    async up(db: Kysely<unknown>) {
      await sql`
        CREATE OR REPLACE FUNCTION update_updated_at_column() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          NEW.updated_at = now();
          RETURN NEW;
        END
        $$`.execute(db);

      await sql`
        CREATE TABLE outbox (
          id bigserial PRIMARY KEY,
          message_id text NOT NULL UNIQUE,
          routing_key text NOT NULL,
          payload jsonb NOT NULL,
          headers jsonb NOT NULL DEFAULT '{}'::jsonb,
          aggregate_type text,
          aggregate_id text,
          ordering_key text GENERATED ALWAYS AS (
            COALESCE(aggregate_type || '/' || aggregate_id, 'message/' || message_id)
          ) STORED,
          created_at timestamptz NOT NULL DEFAULT now(),
          published_at timestamptz,
          attempts integer NOT NULL DEFAULT 0,
          next_attempt_at timestamptz NOT NULL DEFAULT now(),
          last_error text
        )`.execute(db);
      // The relay reads only unpublished rows, head of each ordering key first.
      await sql`CREATE INDEX outbox_unpublished_by_key ON outbox (ordering_key, id) WHERE published_at IS NULL`.execute(
        db,
      );
      await sql`CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL`.execute(
        db,
      );

      await sql`
        CREATE TABLE inbox (
          consumer text NOT NULL,
          message_id text NOT NULL,
          handled_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (consumer, message_id)
        )`.execute(db);

      await sql`
        CREATE TABLE idempotency_keys (
          scope text NOT NULL,
          key text NOT NULL,
          fingerprint text NOT NULL,
          status text NOT NULL CHECK (status IN ('pending', 'completed')),
          status_code integer,
          body jsonb,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (scope, key)
        )`.execute(db);
      await sql`
        CREATE TRIGGER idempotency_keys_updated_at BEFORE UPDATE ON idempotency_keys
        FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`DROP TABLE idempotency_keys, inbox, outbox`.execute(db);
      await sql`DROP FUNCTION update_updated_at_column()`.execute(db);
    },
  },
  '2026_11_22_0001_outbox_unpublished': {
    async up(db: Kysely<unknown>) {
      // The relay walks unpublished rows in id order and stops after a round's worth. IF NOT
      // EXISTS: on a large table an operator builds it CONCURRENTLY beforehand (docs/operations.md).
      await sql`CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL`.execute(
        db,
      );
    },
    async down(db: Kysely<unknown>) {
      await sql`DROP INDEX outbox_unpublished`.execute(db);
    },
  },
  '2026_11_22_0002_retention': {
    // The retention job finds what is past its time without reading every row.
    async up(db: Kysely<unknown>) {
      await sql`CREATE INDEX IF NOT EXISTS inbox_handled_at ON inbox (handled_at)`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at)`.execute(
        db,
      );
    },
    async down(db: Kysely<unknown>) {
      await sql`DROP INDEX inbox_handled_at, idempotency_keys_created_at`.execute(db);
    },
  },
  '2026_11_22_0003_outbox_heads': {
    async up(db: Kysely<unknown>) {
      // The relay's head query (see `claim` in outbox.relay.ts) in a function of its own, so the
      // planner settings it needs apply to it alone. The outbox's statistics are stale whenever
      // the relay is busy: ANALYZE last saw the table (nearly) all published, so during a burst
      // the planner takes thousands of waiting rows for a handful and sorts all of them instead
      // of walking the unpublished rows in id order until enough heads are locked. Measured on
      // 5,000 waiting rows: 0.4 ms a round walking, 4–100 ms with the planner's own choices.
      // (Disabled plans cost so much on paper that JIT would compile them: off as well.) It reads
      // the outbox of the schema it is created in, whoever calls it. Each head comes whole, with
      // whether rows of its key wait behind it, so a round reads nothing more when none do.
      await sql`
        CREATE OR REPLACE FUNCTION outbox_heads(max_heads integer)
        RETURNS TABLE (
          id bigint, message_id text, routing_key text, payload jsonb, headers jsonb,
          ordering_key text, attempts integer, queued boolean
        )
        LANGUAGE plpgsql
        SET search_path FROM CURRENT
        SET enable_bitmapscan = off
        SET enable_sort = off
        SET jit = off
        AS $$
        BEGIN
          -- A head is the first unpublished row of its key, found on the key's index, which
          -- yields that order (as it does the second, for queued).
          RETURN QUERY
          SELECT o.id, o.message_id, o.routing_key, o.payload, o.headers, o.ordering_key,
            o.attempts,
            (
              SELECT behind.id FROM outbox behind
              WHERE behind.ordering_key = o.ordering_key AND behind.published_at IS NULL
              ORDER BY behind.ordering_key, behind.id
              OFFSET 1
              LIMIT 1
            ) IS NOT NULL
          FROM outbox o
          WHERE o.published_at IS NULL
            AND o.next_attempt_at <= now()
            AND o.id = (
              SELECT key_head.id FROM outbox key_head
              WHERE key_head.ordering_key = o.ordering_key AND key_head.published_at IS NULL
              ORDER BY key_head.ordering_key, key_head.id
              LIMIT 1
            )
          ORDER BY o.id
          LIMIT max_heads
          FOR UPDATE OF o SKIP LOCKED;
        END
        $$`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`DROP FUNCTION outbox_heads(integer)`.execute(db);
    },
  },
};
