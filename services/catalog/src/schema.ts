import { migrateToLatest } from '@happening/db';
import type { Logger } from 'pino';
import type { CatalogDb } from './database.ts';

/** The Postgres schema the catalog owns. */
export const CATALOG_SCHEMA = 'catalog';

/** The catalog's own migrations. */
export const MIGRATIONS_FOLDER = new URL('../migrations', import.meta.url);

/** Applies the platform migrations and the catalog's own to the catalog schema. */
export function migrateCatalog(db: CatalogDb, logger?: Logger): Promise<void> {
  return migrateToLatest({
    db,
    schema: CATALOG_SCHEMA,
    migrationsFolder: MIGRATIONS_FOLDER,
    ...(logger ? { logger } : {}),
  });
}
