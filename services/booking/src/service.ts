import { authOptionsFromConfig } from '@happening/auth';
import { closeDb } from '@happening/db';
import { connectBroker } from '@happening/messaging';
import { createLogger, type RunningService, runService } from '@happening/service-kit';
import { Redis } from 'ioredis';
import { buildApp } from './app.ts';
import type { BookingConfig } from './config.ts';
import { createContext } from './context.factory.ts';
import type { BookingContext } from './context.ts';
import { createBookingDb } from './db/db.factory.ts';
import { type BookingRuntime, startRuntime } from './runtime.ts';
import { BOOKING_SCHEMA, migrateBooking } from './schema.ts';

export interface BookingService {
  /** e.g. http://127.0.0.1:3003 */
  address: string;
  ctx: BookingContext;
  runtime: BookingRuntime;
  /** Graceful stop: drain HTTP, stop consumers and relay, close pools. */
  stop(): Promise<void>;
}

/**
 * Connects Postgres, Redis and RabbitMQ, migrates (when RUN_MIGRATIONS), starts the runtime and
 * listens. main.ts runs exactly this; benchmarks and e2e runs can start the service in-process.
 */
export async function startBookingService(config: BookingConfig): Promise<BookingService> {
  const logger = createLogger({ name: 'booking', level: config.LOG_LEVEL });
  const db = createBookingDb({
    connectionString: config.DATABASE_URL,
    schema: BOOKING_SCHEMA,
    max: config.DATABASE_POOL_SIZE,
  });
  if (config.RUN_MIGRATIONS) await migrateBooking(db, logger);
  // Commands that concurrent requests issue in one tick go out in one socket write: under load
  // the write, not Redis, is most of a command's cost. A Redis that stops answering without
  // closing the connection fails commands after commandTimeout (a lost answer: the event is
  // rebuilt) instead of holding a booking's transaction and locks; keep-alive probes notice it.
  const redis = new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    commandTimeout: 2_000,
    keepAlive: 10_000,
  });
  redis.on('error', (err) => logger.warn({ err }, 'redis error'));
  const broker = await connectBroker({ url: config.AMQP_URL, logger });
  const { ctx, availability, connectRelay } = createContext({
    db,
    redis,
    logger,
    lockTtlMs: config.BOOKING_LOCK_TTL_MS,
    rebuildWaitMs: config.REBUILD_WAIT_MS,
    availabilityDebounceMs: config.AVAILABILITY_DEBOUNCE_MS,
    bookingBatchSize: config.BOOKING_BATCH_SIZE,
    bookingBatchesInFlight: config.BOOKING_BATCHES_IN_FLIGHT,
  });
  const runtime = await startRuntime({
    ctx,
    availability,
    connectRelay,
    broker,
    reconcileIntervalMs: config.RECONCILE_INTERVAL_MS,
    outboxMaxDeferMs: config.OUTBOX_MAX_DEFER_MS,
    eventConsumers: config.EVENT_CONSUMERS,
  });
  const app = await buildApp({
    ctx,
    logger,
    auth: authOptionsFromConfig(config),
  });
  const running: RunningService = await runService({
    app,
    port: config.PORT,
    host: config.HOST,
    drainMs: config.SHUTDOWN_DRAIN_MS,
    // Deliveries stop arriving as soon as the pod is leaving; the ones in flight finish and ack.
    onDrain: [() => runtime.stopTaking()],
    onClose: [
      () => runtime.stop(),
      () => broker.close(),
      // A Redis that does not answer QUIT (gone silent) must not keep the pool from closing.
      () =>
        redis.quit().then(
          () => undefined,
          () => redis.disconnect(),
        ),
      () => closeDb(db),
    ],
  });
  return { address: running.address, ctx, runtime, stop: () => running.stop() };
}
