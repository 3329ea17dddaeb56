import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

export interface CreateDbOptions {
  connectionString: string;
  /** The service's Postgres schema; every connection searches it (and only it). */
  schema: string;
  /** Pool size; default 10. */
  max?: number;
  /** More pg pool settings (e.g. `pipeline`), for a service that tunes its connections. */
  poolOptions?: Omit<pg.PoolConfig, 'connectionString' | 'max' | 'options'>;
  /** Called with every new connection the pool opens. */
  onConnect?: (client: pg.PoolClient) => void;
  /**
   * Milliseconds a connection may wait inside a transaction for its next statement before
   * Postgres ends it (default 60 s): a process that died or hangs mid-transaction must not hold
   * its row and advisory locks for hours, the server's own default.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * Milliseconds a query may wait for a connection, opening one included (default 10 s): a
   * Postgres that went silent (a dead node, a partition) fails requests in that time instead of
   * after the operating system's two-minute connect timeout.
   */
  connectTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Rejects anything but a plain lower-case identifier: the name ends up in SQL and startup options. */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${JSON.stringify(schema)}`);
}

/**
 * A Kysely instance on a pg pool whose connections use `search_path = <schema>` and are named
 * `happening-<schema>` (`application_name`).
 */
export function createDb<DB>({
  connectionString,
  schema,
  max = 10,
  poolOptions,
  onConnect,
  idleInTransactionTimeoutMs = 60_000,
  connectTimeoutMs = 10_000,
}: CreateDbOptions): Kysely<DB> {
  assertSchemaName(schema);
  const pool = new pg.Pool({
    // TCP keep-alive probes notice a server that went away without closing the connection.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: connectTimeoutMs,
    ...poolOptions,
    connectionString,
    max,
    // Names the service's connections in pg_stat_activity and the server's logs.
    application_name: `happening-${schema}`,
    // DateStyle ISO whatever the database or role sets: pg parses only ISO timestamps (another
    // style reads as null), and page cursors keep a timestamp's text.
    options: `-c search_path=${schema} -c idle_in_transaction_session_timeout=${Math.trunc(idleInTransactionTimeoutMs)} -c DateStyle=ISO`,
  });
  // A client losing its server (restart, failover, a session Postgres ended) must not crash the
  // process: the pool drops an idle one; one in use fails its next query, which its caller sees.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  if (onConnect) pool.on('connect', onConnect);
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/** Closes the pool behind `db`. */
export async function closeDb<DB>(db: Kysely<DB>): Promise<void> {
  await db.destroy();
}
