import { baseConfigSchema, envFlag, loadConfig } from '@happening/service-kit';
import { z } from 'zod';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3003),
  DATABASE_URL: z.string().min(1),
  AMQP_URL: z.string().min(1),
  REDIS_URL: z.string().min(1),
  OIDC_ISSUER: z.url(),
  OIDC_AUDIENCE: z.string().min(1).default('happening-api'),
  OIDC_JWKS_URI: z.url().optional(),
  RUN_MIGRATIONS: envFlag,
  /** Postgres pool size; every in-flight booking holds one connection across its Redis call. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).default(20),
  /** How often every open event's Redis inventory is rebuilt from Postgres. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(300_000),
  /** TTL of the per-person booking lock. */
  BOOKING_LOCK_TTL_MS: z.coerce.number().int().min(100).default(5_000),
  /** Most concurrent new bookings that share one transaction (1 = each its own). */
  BOOKING_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(64),
  /** Most booking batches running at once; each holds one pooled connection. */
  BOOKING_BATCHES_IN_FLIGHT: z.coerce.number().int().min(1).default(2),
  /** How long a booking waits for an event's rebuild before answering 503. */
  REBUILD_WAIT_MS: z.coerce.number().int().min(0).default(2_000),
  /** Window in which availability changes of one event are coalesced into one message. */
  AVAILABILITY_DEBOUNCE_MS: z.coerce.number().int().min(0).default(250),
});

export type BookingConfig = z.output<typeof configSchema>;

/** Reads the booking service's configuration from the environment, once. */
export function readConfig(env: Record<string, string | undefined> = process.env): BookingConfig {
  return loadConfig(configSchema, env);
}
