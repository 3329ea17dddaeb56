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
