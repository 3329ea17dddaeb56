import { z } from 'zod';

/** An on/off setting: `true`/`1` or `false`/`0`; on when unset. */
export const envFlag = z
  .enum(['true', 'false', '1', '0'])
  .default('true')
  .transform((value) => value === 'true' || value === '1');

/**
 * A 32-byte key, base64-encoded (`openssl rand -base64 32`). Kept as text: the loaded config is
 * deep-frozen, which a Buffer does not survive.
 */
export const sealingKey = z
  .string()
  .refine(
    (value) => Buffer.from(value, 'base64').length === 32,
    'must be 32 bytes, base64-encoded',
  );

/**
 * One or more 32-byte keys, base64, comma-separated: the first is used, the others still accepted
 * (a rotation without a gap). Kept as text, like `sealingKey`; `sealingKeyList` decodes it.
 */
export const sealingKeys = z
  .string()
  .refine(
    (value) => value.split(',').every((key) => Buffer.from(key.trim(), 'base64').length === 32),
    'must be one or more 32-byte keys, base64-encoded, comma-separated',
  );

/** The keys of a `sealingKeys` value, first first. */
export function sealingKeyList(value: string): Buffer[] {
  return value.split(',').map((key) => Buffer.from(key.trim(), 'base64'));
}

/**
 * A comma-separated list of names, each one of `allowed` (spaces around them ignored); all of
 * `allowed` when unset, none when empty.
 */
export function envList<const T extends string>(allowed: readonly [T, ...T[]]) {
  return z
    .string()
    .default(allowed.join(','))
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    )
    .pipe(z.array(z.enum(allowed)));
}

/**
 * `DATABASE_POOL_SIZE`: most Postgres connections the service's pool opens, `defaultSize` when
 * unset. At least 2: the outbox relay and the periodic jobs share the pool with requests.
 */
export function databasePoolSize(defaultSize: number) {
  return z.coerce.number().int().min(2).default(defaultSize);
}

/** Environment every service reads: where to listen, how much to log, how long to drain. */
export const baseConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * At shutdown, how long `/readyz` fails while requests are still served, before the listener
   * closes: long enough for load balancers to take the instance out of rotation. 0 skips it.
   */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(5_000),
});

/** Thrown by `loadConfig` with one line per invalid variable (values are never echoed). */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Parses the environment once against `schema` and returns a deeply frozen config. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Env = process.env,
): Readonly<z.output<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
