import { authOptionsFromConfig } from '@happening/auth';
import { createDb } from '@happening/db';
import { connectBroker } from '@happening/messaging';
import { createLogger, runService } from '@happening/service-kit';
import { buildApp } from './app.ts';
import { readConfig } from './config.ts';
import type { CatalogDatabase } from './database.ts';
import { startRuntime } from './runtime.ts';
import { CATALOG_SCHEMA, migrateCatalog } from './schema.ts';

const config = readConfig();
const logger = createLogger({ name: 'catalog', level: config.LOG_LEVEL });
const db = createDb<CatalogDatabase>({
  connectionString: config.DATABASE_URL,
  schema: CATALOG_SCHEMA,
  max: config.DATABASE_POOL_SIZE,
});
if (config.RUN_MIGRATIONS) await migrateCatalog(db, logger);
const broker = await connectBroker({ url: config.AMQP_URL, logger });
const clock = () => new Date();
const runtime = await startRuntime({
  db,
  broker,
  logger,
  clock,
  lifecycleIntervalMs: config.LIFECYCLE_INTERVAL_MS,
  eventConsumers: config.EVENT_CONSUMERS,
});
const app = await buildApp({
  db,
  clock,
  afterCommit: runtime.wake,
  logger,
  auth: authOptionsFromConfig(config),
});
await runService({
  app,
  port: config.PORT,
  host: config.HOST,
  drainMs: config.SHUTDOWN_DRAIN_MS,
  // Deliveries stop arriving as soon as the pod is leaving; the ones in flight finish and ack.
  onDrain: [() => runtime.stopTaking()],
  onClose: [() => runtime.stop(), () => broker.close(), () => db.destroy()],
});
