import { baseConfigSchema, loadConfig } from '@happening/service-kit';
import { z } from 'zod';

const commaList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** The gateway's environment. */
export const gatewayConfigSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  IDENTITY_ORG_URL: z.url().default('http://127.0.0.1:3001'),
  CATALOG_URL: z.url().default('http://127.0.0.1:3002'),
  BOOKING_URL: z.url().default('http://127.0.0.1:3003'),
  NOTIFICATION_URL: z.url().default('http://127.0.0.1:3004'),
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  OIDC_ISSUER: z.url(),
  OIDC_AUDIENCE: z.string().min(1).default('happening-api'),
  OIDC_JWKS_URI: z.url().optional(),
  /** Browser origins allowed to call the API, comma-separated (none by default). */
  CORS_ORIGINS: commaList,
  /** Requests per minute one token subject may make. */
  RATE_LIMIT_PER_MINUTE: positiveInt(600),
  /** Requests per minute one client IP may make, with or without a token. */
  RATE_LIMIT_PER_IP_PER_MINUTE: positiveInt(1200),
  /** How long a rate-limit command may wait for Redis before the request goes through uncounted. */
  RATE_LIMIT_REDIS_TIMEOUT_MS: positiveInt(250),
  /** How long the rate limits let requests through without asking Redis once it timed out. */
  RATE_LIMIT_REDIS_COOL_DOWN_MS: positiveInt(5000),
  /**
   * How long an upstream may take to send its status and headers (else 504), and at most between
   * two chunks of its body.
   */
  UPSTREAM_TIMEOUT_MS: positiveInt(10_000),
  /** Largest request body forwarded, in bytes. */
  BODY_LIMIT_BYTES: positiveInt(64 * 1024),
  /** Trust `X-Forwarded-For` from this many proxy hops in front of the gateway (0: none). */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).default(0),
});

export type GatewayConfig = Readonly<z.output<typeof gatewayConfigSchema>>;

/** Parses the gateway's environment once. */
export function loadGatewayConfig(
  env: Record<string, string | undefined> = process.env,
): GatewayConfig {
  return loadConfig(gatewayConfigSchema, env);
}
