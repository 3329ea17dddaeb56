import { migrateToLatest } from '@happening/db';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CatalogDb } from './database.ts';

/** The Postgres schema the catalog owns. */
export const CATALOG_SCHEMA = 'catalog';

/** The catalog's own migrations. */
export const MIGRATIONS_FOLDER = new URL('../migrations', import.meta.url);

/** Applies the platform migrations and the catalog's own to the catalog schema. */
export function migrateCatalog(db: CatalogDb, logger?: Logger): Promise<void> {
  return migrateToLatest({
    // The runner only needs an untyped handle on the same pool.
    db: db as unknown as Kysely<unknown>,
    schema: CATALOG_SCHEMA,
    migrationsFolder: MIGRATIONS_FOLDER,
    ...(logger ? { logger } : {}),
  });
}
