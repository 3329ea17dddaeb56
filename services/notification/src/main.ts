import { createSealedBox, createSealedBoxRing } from '@happening/contracts';
import { createDb, migrateToLatest } from '@happening/db';
import { connectBroker } from '@happening/messaging';
import { createLogger, runService, sealingKeyList } from '@happening/service-kit';
import { buildApp } from './app.ts';
import { readConfig, shutdownGraceMs } from './config.ts';
import type { NotificationDb } from './database.ts';
import { channelAdapters } from './modules/delivery/channels/channel.registry.ts';
import { startRuntime } from './runtime.ts';
import { DB_SCHEMA, MIGRATIONS_FOLDER } from './schema.ts';

const config = readConfig();
const logger = createLogger({ name: 'notification', level: config.LOG_LEVEL });
const db = createDb<NotificationDb>({
  connectionString: config.DATABASE_URL,
  schema: DB_SCHEMA,
  max: config.DATABASE_POOL_SIZE,
});

if (config.RUN_MIGRATIONS) {
  await migrateToLatest({ db, schema: DB_SCHEMA, migrationsFolder: MIGRATIONS_FOLDER, logger });
}
const broker = await connectBroker({ url: config.AMQP_URL, logger });
const adapters = channelAdapters(config);
logger.info({ channels: [...adapters.keys()] }, 'delivery channels');
const runtime = await startRuntime({
  db,
  broker,
  logger,
  adapters,
  sealedBox: createSealedBox(Buffer.from(config.NOTIFICATION_SEALING_KEY, 'base64')),
  inviteLinks: createSealedBoxRing(sealingKeyList(config.INVITE_LINK_KEY)),
  deliveryRetryDelaysMs: config.DELIVERY_RETRY_DELAYS_MS,
  pendingSweepIntervalMs: config.PENDING_SWEEP_INTERVAL_MS,
  pendingStaleAfterMs: config.PENDING_STALE_AFTER_MS,
  waitingNoticeExpiryMs: config.WAITING_NOTICE_EXPIRY_MS,
  finishedNotificationRetentionMs: config.NOTIFICATION_RETENTION_DAYS * 24 * 3_600_000,
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
  // Deliveries stop arriving as soon as the pod is leaving; the ones in flight finish and ack.
  onDrain: [() => runtime.stopTaking()],
  onClose: [() => runtime.stop(), () => broker.close(), () => db.destroy()],
  graceMs: shutdownGraceMs(config),
});
