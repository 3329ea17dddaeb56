import type { Generated, Kysely } from 'kysely';
import { pino } from 'pino';
import { createDb, migrateToLatest, type PlatformTables } from '../src/index.ts';

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
export const fixtureMigrations = new URL('./fixtures/migrations/', import.meta.url);

export interface TestTables extends PlatformTables {
  widgets: { id: number; name: string; updated_at: Generated<Date> };
}

/** A migrated schema of its own on the test server. */
export async function migratedDb(
  connectionString: string,
  schema: string,
  max = 10,
): Promise<Kysely<TestTables>> {
  const db = createDb<TestTables>({ connectionString, schema, max });
  await migrateToLatest({ db, schema, migrationsFolder: fixtureMigrations });
  return db;
}
