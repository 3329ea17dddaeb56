import { runMigrateCommand } from '@happening/db';
import { readMigrateConfig } from './config.ts';
import { CATALOG_SCHEMA, MIGRATIONS_FOLDER } from './schema.ts';

const config = readMigrateConfig();
await runMigrateCommand({
  connectionString: config.DATABASE_URL,
  schema: CATALOG_SCHEMA,
  migrationsFolder: MIGRATIONS_FOLDER,
});
