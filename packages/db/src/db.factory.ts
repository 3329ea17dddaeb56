import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

export interface CreateDbOptions {
  connectionString: string;
  /** The service's Postgres schema; every connection searches it (and only it). */
  schema: string;
  /** Pool size; default 10. */
  max?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Rejects anything but a plain lower-case identifier: the name ends up in SQL and startup options. */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${JSON.stringify(schema)}`);
}

/** A Kysely instance on a pg pool whose connections use `search_path = <schema>`. */
export function createDb<DB>({ connectionString, schema, max = 10 }: CreateDbOptions): Kysely<DB> {
  assertSchemaName(schema);
  const pool = new pg.Pool({ connectionString, max, options: `-c search_path=${schema}` });
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on('error', () => undefined);
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/** Closes the pool behind `db`. */
export async function closeDb<DB>(db: Kysely<DB>): Promise<void> {
  await db.destroy();
}
