import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  baseConfigSchema,
  ConfigError,
  databasePoolSize,
  envFlag,
  envList,
  loadConfig,
} from './config.loader.ts';

describe('loadConfig', () => {
  it('applies defaults and coerces numbers', () => {
    const config = loadConfig(baseConfigSchema, { PORT: '4100' });
    expect(config).toEqual({
      PORT: 4100,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SHUTDOWN_DRAIN_MS: 5_000,
    });
  });

  it('takes a shutdown drain of 0 ms and refuses a negative one', () => {
    expect(loadConfig(baseConfigSchema, { SHUTDOWN_DRAIN_MS: '0' }).SHUTDOWN_DRAIN_MS).toBe(0);
    expect(() => loadConfig(baseConfigSchema, { SHUTDOWN_DRAIN_MS: '-1' })).toThrow(
      /SHUTDOWN_DRAIN_MS/,
    );
  });

  it('returns a frozen object', () => {
    const config = loadConfig(
      baseConfigSchema.extend({ NESTED: z.string().transform((s) => ({ s })) }),
      {
        NESTED: 'x',
      },
    );
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.NESTED)).toBe(true);
    expect(() => {
      (config as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
  });

  it('lists every invalid variable without echoing values', () => {
    const schema = baseConfigSchema.extend({ DATABASE_URL: z.url() });
    let caught: unknown;
    try {
      loadConfig(schema, { PORT: 'not-a-port', LOG_LEVEL: 'loud', DATABASE_URL: 'secret-ish' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems.map((p) => p.split(':')[0])).toEqual([
      'PORT',
      'LOG_LEVEL',
      'DATABASE_URL',
    ]);
    expect(error.message).toMatch(/^Invalid configuration:\n {2}- PORT: /);
    expect(error.message).not.toContain('secret-ish');
  });

  it('reports a missing required variable by name', () => {
    expect(() => loadConfig(z.object({ AMQP_URL: z.string() }), {})).toThrow(/AMQP_URL/);
  });

  it('reads an on/off flag, on when unset, refusing anything else', () => {
    const schema = baseConfigSchema.extend({ RUN_MIGRATIONS: envFlag });
    expect(loadConfig(schema, {}).RUN_MIGRATIONS).toBe(true);
    expect(loadConfig(schema, { RUN_MIGRATIONS: '1' }).RUN_MIGRATIONS).toBe(true);
    expect(loadConfig(schema, { RUN_MIGRATIONS: 'false' }).RUN_MIGRATIONS).toBe(false);
    expect(loadConfig(schema, { RUN_MIGRATIONS: '0' }).RUN_MIGRATIONS).toBe(false);
    expect(() => loadConfig(schema, { RUN_MIGRATIONS: 'yes' })).toThrow(ConfigError);
  });

  it('reads a list of known names, all of them when unset, none when empty', () => {
    const schema = z.object({ EVENT_CONSUMERS: envList(['catalog', 'booking', 'notification']) });
    expect(loadConfig(schema, {}).EVENT_CONSUMERS).toEqual(['catalog', 'booking', 'notification']);
    expect(loadConfig(schema, { EVENT_CONSUMERS: ' booking, catalog ' }).EVENT_CONSUMERS).toEqual([
      'booking',
      'catalog',
    ]);
    expect(loadConfig(schema, { EVENT_CONSUMERS: '' }).EVENT_CONSUMERS).toEqual([]);
    expect(() => loadConfig(schema, { EVENT_CONSUMERS: 'catalog,gateway' })).toThrow(
      /EVENT_CONSUMERS/,
    );
  });

  it('reads a pool size, the given default when unset, refusing fewer than 2', () => {
    const schema = z.object({ DATABASE_POOL_SIZE: databasePoolSize(10) });
    expect(loadConfig(schema, {}).DATABASE_POOL_SIZE).toBe(10);
    expect(loadConfig(schema, { DATABASE_POOL_SIZE: '3' }).DATABASE_POOL_SIZE).toBe(3);
    for (const invalid of ['1', '0', '2.5', 'many']) {
      expect(() => loadConfig(schema, { DATABASE_POOL_SIZE: invalid })).toThrow(
        /DATABASE_POOL_SIZE/,
      );
    }
  });
});
