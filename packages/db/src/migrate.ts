import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResult,
  Migrator,
  sql,
} from 'kysely';
import type { Logger } from 'pino';
import { assertSchemaName } from './db.factory.ts';
import { platformMigrations } from './platform.migrations.ts';

export interface MigrateOptions<DB = unknown> {
  /** A Kysely instance from `createDb` with the same schema. */
  db: Kysely<DB>;
  schema: string;
  /** Folder of the service's own migrations (`<timestamp>_<name>.ts` exporting up/down). */
  migrationsFolder: string | URL;
  logger?: Logger;
}

/**
 * Creates the schema, applies the platform migrations (outbox, inbox, idempotency keys,
 * `update_updated_at_column()`), then the service's own, each tracked in its own table inside
 * the schema. Kysely's migrator holds a Postgres advisory lock while it runs, so replicas that
 * start together apply every migration once. The lock is one constant for the whole database,
 * whatever the schema, and taken even when nothing is pending: one service's long migration
 * holds back every other service's start on the same database (operations.md).
 */
export async function migrateToLatest<DB>(options: MigrateOptions<DB>): Promise<void> {
  const { schema, migrationsFolder, logger } = options;
  const db = options.db as unknown as Kysely<unknown>;
  assertSchemaName(schema);
  await createSchema(db, schema);
  const current = await sql<{ schema: string | null }>`SELECT current_schema() AS schema`.execute(
    db,
  );
  if (current.rows[0]?.schema !== schema) {
    throw new Error(
      `migrateToLatest needs a db whose search_path is ${schema} (use createDb({ schema }))`,
    );
  }
  const folder =
    typeof migrationsFolder === 'string' ? migrationsFolder : fileURLToPath(migrationsFolder);
  await run(db, schema, 'platform', { getMigrations: async () => platformMigrations }, logger);
  await run(db, schema, 'service', folderProvider(folder), logger);
}

const MIGRATION_FILE = /^[^.].*(?<!\.d)\.(ts|js|mjs)$/;

/**
 * Loads `<folder>/*.{ts,js,mjs}` sorted by name. Unlike kysely's FileMigrationProvider the import
 * happens here, so test runners and TS loaders that transform this package also load the files.
 */
function folderProvider(folder: string): MigrationProvider {
  return {
    async getMigrations() {
      const files = (await fs.readdir(folder)).filter((file) => MIGRATION_FILE.test(file)).sort();
      const migrations: Record<string, Migration> = {};
      for (const file of files) {
        const module = (await import(
          pathToFileURL(path.join(folder, file)).href
        )) as Partial<Migration> & {
          default?: Migration;
        };
        const migration = module.up ? module : module.default;
        if (!migration?.up) throw new Error(`migration ${file} exports no up()`);
        migrations[file.replace(/\.(ts|js|mjs)$/, '')] = migration as Migration;
      }
      return migrations;
    },
  };
}

async function createSchema(db: Kysely<unknown>, schema: string): Promise<void> {
  try {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  } catch (error) {
    // Two replicas creating the schema at once: IF NOT EXISTS can still hit the unique catalog index.
    const exists = await sql`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`.execute(db);
    if (exists.rows.length === 0) throw error;
  }
}

async function run(
  db: Kysely<unknown>,
  schema: string,
  kind: 'platform' | 'service',
  provider: MigrationProvider,
  logger: Logger | undefined,
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableSchema: schema,
    migrationTableName: kind === 'platform' ? 'platform_migration' : 'kysely_migration',
    migrationLockTableName:
      kind === 'platform' ? 'platform_migration_lock' : 'kysely_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  for (const result of results ?? []) log(logger, schema, kind, result);
  if (error) {
    throw new Error(
      `${kind} migrations of schema ${schema} failed: ${(error as Error).message ?? error}`,
      {
        cause: error,
      },
    );
  }
}

function log(
  logger: Logger | undefined,
  schema: string,
  kind: string,
  result: MigrationResult,
): void {
  const entry = { schema, kind, migration: result.migrationName, status: result.status };
  if (result.status === 'Error') logger?.error(entry, 'migration failed');
  else logger?.info(entry, 'migration applied');
}
