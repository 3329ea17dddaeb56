import { pino } from 'pino';
import { closeDb, createDb } from './db.factory.ts';
import { migrateToLatest } from './migrate.ts';

export interface MigrateCommandOptions {
  connectionString: string;
  schema: string;
  migrationsFolder: string | URL;
}

/**
 * The body of a service's `src/migrate.ts`: applies every pending migration and closes the pool.
 * Sets a failing exit code instead of throwing, so the command ends with a readable log line.
 */
export async function runMigrateCommand(options: MigrateCommandOptions): Promise<boolean> {
  const logger = pino({ name: `migrate:${options.schema}` });
  const db = createDb({
    connectionString: options.connectionString,
    schema: options.schema,
    max: 1,
  });
  try {
    await migrateToLatest({
      db,
      schema: options.schema,
      migrationsFolder: options.migrationsFolder,
      logger,
    });
    logger.info({ schema: options.schema }, 'schema is up to date');
    return true;
  } catch (error) {
    logger.error({ err: error, schema: options.schema }, 'migration failed');
    process.exitCode = 1;
    return false;
  } finally {
    await closeDb(db);
  }
}
