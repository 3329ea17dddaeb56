import { SUBSCRIBING_SERVICES } from '@happening/messaging';
import {
  baseConfigSchema,
  databasePoolSize,
  envFlag,
  envList,
  loadConfig,
} from '@happening/service-kit';
import { z } from 'zod';

/** Defaults of the booking settings, for the environment and for contexts built in code. */
export const bookingDefaults = {
  lockTtlMs: 5_000,
  batchSize: 64,
  batchesInFlight: 2,
  rebuildWaitMs: 2_000,
  availabilityDebounceMs: 250,
  outboxMaxDeferMs: 2_000,
} as const;

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3003),
  DATABASE_URL: z.string().min(1),
  AMQP_URL: z.string().min(1),
  REDIS_URL: z.string().min(1),
  OIDC_ISSUER: z.url(),
  OIDC_AUDIENCE: z.string().min(1).default('happening-api'),
  OIDC_JWKS_URI: z.url().optional(),
  RUN_MIGRATIONS: envFlag,
  /**
   * Consuming services deployed alongside (comma-separated; default all): the queues this service
   * declares for them at start. A service left out gets none, so nothing piles up unconsumed.
   */
  EVENT_CONSUMERS: envList(SUBSCRIBING_SERVICES),
  /** Postgres pool size; every in-flight booking holds one connection across its Redis call. */
  DATABASE_POOL_SIZE: databasePoolSize(20),
  /** How often every open event's Redis inventory is rebuilt from Postgres. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(300_000),
  /** TTL of the per-person booking lock. */
  BOOKING_LOCK_TTL_MS: z.coerce.number().int().min(100).default(bookingDefaults.lockTtlMs),
  /** Most concurrent bookings (or one event's cancellations) in one transaction; 1 = each alone. */
  BOOKING_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(bookingDefaults.batchSize),
  /** Most booking batches running at once; each holds one pooled connection. */
  BOOKING_BATCHES_IN_FLIGHT: z.coerce
    .number()
    .int()
    .min(1)
    .default(bookingDefaults.batchesInFlight),
  /** How long a booking waits for an event's rebuild before answering 503. */
  REBUILD_WAIT_MS: z.coerce.number().int().min(0).default(bookingDefaults.rebuildWaitMs),
  /** Window in which availability changes of one event are coalesced into one message. */
  AVAILABILITY_DEBOUNCE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(bookingDefaults.availabilityDebounceMs),
  /**
   * Longest the outbox relay holds events back while new bookings are being processed (a
   * stampede's requests get the CPU first); 0 = never.
   */
  OUTBOX_MAX_DEFER_MS: z.coerce.number().int().min(0).default(bookingDefaults.outboxMaxDeferMs),
});

export type BookingConfig = z.output<typeof configSchema>;

/** Reads the booking service's configuration from the environment, once. */
export function readConfig(env: Record<string, string | undefined> = process.env): BookingConfig {
  return loadConfig(configSchema, env);
}

export const migrateConfigSchema = configSchema.pick({ DATABASE_URL: true });

/** The environment `src/migrate.ts` needs: only the database. */
export function readMigrateConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(migrateConfigSchema, env);
}
