import { SUBSCRIBING_SERVICES } from '@happening/messaging';
import {
  baseConfigSchema,
  databasePoolSize,
  envFlag,
  envList,
  loadConfig,
  sealingKeys,
} from '@happening/service-kit';
import { z } from 'zod';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3001),
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
  /** Base of the links sent in invite emails. */
  PUBLIC_APP_URL: z.url().default('http://localhost:8080'),
  INVITE_TTL_HOURS: z.coerce
    .number()
    .positive()
    .default(7 * 24),
  INVITE_EXPIRY_SWEEP_MS: z.coerce.number().int().positive().default(60_000),
  /** Most organizations one person may own (sign-up and POST /v1/orgs refuse beyond it). */
  ORGANIZATIONS_PER_OWNER: z.coerce.number().int().positive().default(20),
  /**
   * Most invites one organization may create for one address, and in all, in any 24 hours
   * (POST invites answers 429 INVITE_LIMIT beyond): each is mailed, whatever the invitee wants.
   */
  INVITES_PER_ADDRESS_PER_DAY: z.coerce.number().int().positive().default(3),
  INVITES_PER_ORG_PER_DAY: z.coerce.number().int().positive().default(200),
  /**
   * Most invites all organizations together may have mailed to one address in any 24 hours: one
   * person can come to control any number of organizations (ownership is handed over), so the
   * per-organization caps alone do not bound what one address receives. Beyond it invites are
   * still created, unmailed: a cap that refused them would let one organization, by spending it,
   * keep every other from inviting the address.
   */
  INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS: z.coerce.number().int().positive().default(10),
  /**
   * Seals the accept link in member_invited for notification, which holds the same keys: the
   * first seals; more, comma-separated, during a rotation.
   */
  INVITE_LINK_KEY: sealingKeys,
});

export type Config = z.output<typeof configSchema>;

/** Reads the service's configuration from the environment, once. */
export function readConfig(
  env: Record<string, string | undefined> = process.env,
): Readonly<Config> {
  return loadConfig(configSchema, env);
}

export const migrateConfigSchema = configSchema.pick({ DATABASE_URL: true });

/** The environment `src/migrate.ts` needs: only the database. */
export function readMigrateConfig(
  env: Record<string, string | undefined> = process.env,
): Readonly<z.output<typeof migrateConfigSchema>> {
  return loadConfig(migrateConfigSchema, env);
}
