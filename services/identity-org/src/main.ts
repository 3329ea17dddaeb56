import { createDb, migrateToLatest } from '@happening/db';
import { connectBroker } from '@happening/messaging';
import { createLogger, runService } from '@happening/service-kit';
import { buildApp } from './app.ts';
import { readConfig } from './config.ts';
import type { IdentityDatabase } from './db.types.ts';
import { startRuntime } from './runtime.ts';
import { DB_SCHEMA, MIGRATIONS_FOLDER } from './schema.ts';

const config = readConfig();
const logger = createLogger({ name: 'identity-org', level: config.LOG_LEVEL });
const db = createDb<IdentityDatabase>({
  connectionString: config.DATABASE_URL,
  schema: DB_SCHEMA,
  max: config.DATABASE_POOL_SIZE,
});

if (config.RUN_MIGRATIONS) {
  await migrateToLatest({ db, schema: DB_SCHEMA, migrationsFolder: MIGRATIONS_FOLDER, logger });
}
const broker = await connectBroker({ url: config.AMQP_URL, logger });
const runtime = await startRuntime({
  db,
  broker,
  logger,
  inviteExpirySweepMs: config.INVITE_EXPIRY_SWEEP_MS,
  eventConsumers: config.EVENT_CONSUMERS,
});
const app = buildApp({
  config,
  db,
  logger,
});

await runService({
  app,
  port: config.PORT,
  host: config.HOST,
  drainMs: config.SHUTDOWN_DRAIN_MS,
  onClose: [() => runtime.stop(), () => broker.close(), () => db.destroy()],
});
