import { SUBSCRIBING_SERVICES } from '@happening/messaging';
import {
  baseConfigSchema,
  CLOSE_GRACE_MS,
  databasePoolSize,
  envFlag,
  envList,
  loadConfig,
  sealingKey,
  sealingKeys,
} from '@happening/service-kit';
import { z } from 'zod';

const delayList = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'comma-separated milliseconds')
  .transform((value) => value.split(',').map(Number));

export const configSchema = baseConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3004),
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
    SMTP_URL: z.string().min(1).default('smtp://127.0.0.1:1025'),
    MAIL_FROM: z.string().min(1).default('Happening <no-reply@happening.local>'),
    /** SMS and push are offered only when their provider is configured. */
    SMS_API_URL: z.url().optional(),
    SMS_API_KEY: z.string().min(1).optional(),
    PUSH_API_URL: z.url().optional(),
    PUSH_API_KEY: z.string().min(1).optional(),
    /**
     * Per provider call (SMTP connect/greeting/socket, HTTP request); the shutdown waits for the
     * slowest send it allows (see `shutdownGraceMs`).
     */
    PROVIDER_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** Encrypts what must not rest in clear text (the invite email with its accept link). */
    NOTIFICATION_SEALING_KEY: sealingKey,
    /** Opens the accept links identity-org seals into member_invited (identity-org holds the same keys; several, comma-separated, during a rotation). */
    INVITE_LINK_KEY: sealingKeys,
    /** Waits before each redelivery of a failed send; attempts = delays + 1. */
    DELIVERY_RETRY_DELAYS_MS: delayList.default([5_000, 30_000, 120_000, 600_000]),
    PENDING_SWEEP_INTERVAL_MS: z.coerce.number().int().positive().default(60_000),
    /** Must exceed the longest retry delay, or the sweep re-enqueues work that is only waiting. */
    PENDING_STALE_AFTER_MS: z.coerce
      .number()
      .int()
      .positive()
      .default(15 * 60_000),
    /**
     * How long a notice waits for its person's contact details (identity's user_registered) before
     * it is given up; the default matches how long the inbox keeps message ids.
     */
    WAITING_NOTICE_EXPIRY_MS: z.coerce
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3_600_000),
    /** Days a sent, failed or skipped notification is kept (the people's lists, orgAdmins' retries). */
    NOTIFICATION_RETENTION_DAYS: z.coerce.number().int().positive().default(90),
  })
  .refine((c) => !c.SMS_API_URL || c.SMS_API_KEY, {
    path: ['SMS_API_KEY'],
    message: 'required with SMS_API_URL',
  })
  .refine((c) => !c.PUSH_API_URL || c.PUSH_API_KEY, {
    path: ['PUSH_API_KEY'],
    message: 'required with PUSH_API_URL',
  })
  .refine((c) => c.PENDING_STALE_AFTER_MS > Math.max(...c.DELIVERY_RETRY_DELAYS_MS), {
    path: ['PENDING_STALE_AFTER_MS'],
    message: 'must exceed the longest delivery retry delay',
  });

export type Config = z.output<typeof configSchema>;

/**
 * Provider waits one send can chain, each bounded by PROVIDER_TIMEOUT_MS alone: nodemailer times
 * an SMTP conversation stage by stage (connect, greeting, EHLO, STARTTLS, the TLS handshake, EHLO
 * again, AUTH LOGIN's three replies, MAIL FROM, RCPT TO, DATA, the message's end); an HTTP
 * provider's call is one wait.
 */
export const PROVIDER_WAITS_PER_SEND = 13;

/**
 * Milliseconds from SIGTERM to exit. Consumers stop taking deliveries as shutdown starts, so the
 * sends in flight then have this long: the slowest send, then the close every service gets to
 * record outcomes, ack and close (and never less than the drain plus that close). A shorter
 * budget killed slow sends midway, and their redelivery could mail someone twice.
 */
export function shutdownGraceMs(
  config: Pick<Config, 'SHUTDOWN_DRAIN_MS' | 'PROVIDER_TIMEOUT_MS'>,
): number {
  const slowestSendMs = PROVIDER_WAITS_PER_SEND * config.PROVIDER_TIMEOUT_MS;
  return Math.max(config.SHUTDOWN_DRAIN_MS, slowestSendMs) + CLOSE_GRACE_MS;
}

/** Reads the service's configuration from the environment, once. */
export function readConfig(
  env: Record<string, string | undefined> = process.env,
): Readonly<Config> {
  return loadConfig(configSchema, env);
}

export const migrateConfigSchema = z.object({ DATABASE_URL: z.string().min(1) });

/** The environment `src/migrate.ts` needs: only the database. */
export function readMigrateConfig(
  env: Record<string, string | undefined> = process.env,
): Readonly<z.output<typeof migrateConfigSchema>> {
  return loadConfig(migrateConfigSchema, env);
}
