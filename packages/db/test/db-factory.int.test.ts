import { isDependencyUnavailable } from '@happening/service-kit';
import { eventually, startPostgres, startTcpProxy } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, createDb } from '../src/index.ts';

let postgres: Awaited<ReturnType<typeof startPostgres>>;

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  await postgres?.stop();
});

describe('createDb', () => {
  it('ends a transaction left waiting for its next statement, freeing its locks, and stays usable', async () => {
    const db = createDb({
      connectionString: postgres.url,
      schema: 'public',
      max: 2,
      idleInTransactionTimeoutMs: 300,
    });
    try {
      const lock = 4_242;
      await db.connection().execute(async (abandoned) => {
        await sql`BEGIN`.execute(abandoned);
        await sql`SELECT pg_advisory_xact_lock(${lock})`.execute(abandoned);
        const { rows: backend } = await sql<{ pid: number }>`
          SELECT pg_backend_pid() AS pid`.execute(abandoned);
        // A process that hangs mid-transaction: Postgres ends the session after the timeout.
        await eventually(async () => {
          const { rows: alive } = await sql`
            SELECT 1 FROM pg_stat_activity WHERE pid = ${backend[0]!.pid}`.execute(db);
          return alive.length === 0;
        });
        await expect(sql`SELECT 1`.execute(abandoned)).rejects.toThrow();
      });
      const { rows } = await sql<{ taken: boolean }>`
        SELECT pg_try_advisory_lock(${lock}) AS taken`.execute(db);
      expect(rows[0]?.taken).toBe(true);
    } finally {
      await closeDb(db);
    }
  });

  it('reads timestamps back as Dates whatever DateStyle the database or role sets', async () => {
    const admin = createDb({ connectionString: postgres.url, schema: 'public', max: 1 });
    await sql`CREATE DATABASE datestyle_sql`.execute(admin);
    await sql`ALTER DATABASE datestyle_sql SET DateStyle = 'SQL, DMY'`.execute(admin);
    const url = new URL(postgres.url);
    url.pathname = '/datestyle_sql';
    const db = createDb({ connectionString: url.toString(), schema: 'public', max: 1 });
    try {
      const { rows } = await sql<{ at: Date; text: string }>`
        SELECT timestamptz '2026-11-23 10:00:00+00' AS at,
               (timestamptz '2026-11-23 10:00:00+00')::text AS text`.execute(db);
      // pg parses only ISO output; a page cursor keeps the text form.
      expect(rows[0]?.at.toISOString()).toBe('2026-11-23T10:00:00.000Z');
      expect(rows[0]?.text).toMatch(/^2026-11-23 \d\d:00:00[+-]\d\d/);
    } finally {
      await closeDb(db);
      await sql`DROP DATABASE datestyle_sql`.execute(admin);
      await closeDb(admin);
    }
  });

  it("names its connections after the service's schema, as pg_stat_activity shows them", async () => {
    const db = createDb({ connectionString: postgres.url, schema: 'catalog' });
    try {
      const { rows } = await sql<{ name: string }>`
        SELECT application_name AS name FROM pg_stat_activity WHERE pid = pg_backend_pid()`.execute(
        db,
      );
      expect(rows[0]?.name).toBe('happening-catalog');
    } finally {
      await closeDb(db);
    }
  });

  it('opens no more than `max` connections however many queries wait, and opens all of them', async () => {
    // The services pass DATABASE_POOL_SIZE as `max`: Postgres must see the pool at that size.
    const max = 3;
    const db = createDb({ connectionString: postgres.url, schema: 'pool_size_probe', max });
    const observer = createDb({ connectionString: postgres.url, schema: 'public', max: 2 });
    /** The pool's connections as Postgres sees them, and those of them waiting on a lock. */
    const connections = async () => {
      const { rows } = await sql<{ open: number; waiting: number }>`
        SELECT count(*)::int AS open, (count(*) FILTER (WHERE wait_event_type = 'Lock'))::int AS waiting
        FROM pg_stat_activity WHERE application_name = 'happening-pool_size_probe'`.execute(
        observer,
      );
      return rows[0]!;
    };
    const lock = 4_343;
    try {
      await observer.connection().execute(async (blocker) => {
        await sql`SELECT pg_advisory_lock(${lock})`.execute(blocker);
        // Each query holds its connection until the lock is released; the extra ones must queue.
        const queries = Array.from({ length: max + 3 }, () =>
          sql`SELECT pg_advisory_xact_lock_shared(${lock})`.execute(db),
        );
        await eventually(async () => (await connections()).waiting >= max, {
          timeoutMs: 5_000,
          what: `${max} queries waiting on the lock`,
        });
        const seen = [(await connections()).open];
        await sql`SELECT pg_advisory_unlock(${lock})`.execute(blocker);
        let settled = false;
        const all = Promise.all(queries).finally(() => {
          settled = true;
        });
        while (!settled) seen.push((await connections()).open);
        await all;
        // The pool keeps its idle connections: what it opened over the whole run is still there.
        seen.push((await connections()).open);
        expect(Math.max(...seen)).toBe(max);
        expect(seen.at(-1)).toBe(max);
      });
    } finally {
      // The observer first: ending its session frees the lock the pool's queries may wait on.
      await closeDb(observer);
      await closeDb(db);
    }
  });

  it('sets a minute by default', async () => {
    const db = createDb({ connectionString: postgres.url, schema: 'public' });
    try {
      const { rows } = await sql<{
        idle_in_transaction_session_timeout: string;
      }>`SHOW idle_in_transaction_session_timeout`.execute(db);
      expect(rows[0]?.idle_in_transaction_session_timeout).toBe('1min');
    } finally {
      await closeDb(db);
    }
  });

  it('fails a query in its connect timeout when Postgres answers nothing, as unavailable', async () => {
    const proxy = await startTcpProxy(postgres.url);
    const db = createDb({ connectionString: proxy.url, schema: 'public', connectTimeoutMs: 500 });
    try {
      // A dead node or a partition: the connection is taken, the handshake never answered.
      proxy.freeze();
      const failure = await sql`SELECT 1`.execute(db).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Error);
      expect(isDependencyUnavailable(failure)).toBe(true);
    } finally {
      await closeDb(db);
      await proxy.close();
    }
  });
});
