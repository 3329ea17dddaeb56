import { SUBSCRIBING_SERVICES } from '@happening/messaging';
import {
  baseConfigSchema,
  databasePoolSize,
  envFlag,
  envList,
  loadConfig,
} from '@happening/service-kit';
import { z } from 'zod';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3002),
  DATABASE_URL: z.string().min(1),
  DATABASE_POOL_SIZE: databasePoolSize(10),
  AMQP_URL: z.string().min(1),
  OIDC_ISSUER: z.url(),
  OIDC_AUDIENCE: z.string().min(1).default('happening-api'),
  OIDC_JWKS_URI: z.url().optional(),
  RUN_MIGRATIONS: envFlag,
  /**
   * Consuming services deployed alongside (comma-separated; default all): the queues this service
   * declares for them at start. A service left out gets none, so nothing piles up unconsumed.
   */
  EVENT_CONSUMERS: envList(SUBSCRIBING_SERVICES),
  /** How often the lifecycle job looks for events to start or complete. */
  LIFECYCLE_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
});

export type CatalogConfig = z.output<typeof configSchema>;

/** Reads the catalog's configuration from the environment, once. */
export function readConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(configSchema, env);
}

export const migrateConfigSchema = configSchema.pick({ DATABASE_URL: true });

/** The environment `src/migrate.ts` needs: only the database. */
export function readMigrateConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(migrateConfigSchema, env);
}
