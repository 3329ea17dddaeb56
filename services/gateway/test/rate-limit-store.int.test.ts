import {
  eventually,
  type ServerHandle,
  startRedis,
  startTcpProxy,
  type TcpProxy,
} from '@happening/testkit';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisGate, gatedRedisStore, type RedisGate } from '../src/rate-limit-store.ts';

const NAMESPACE = 'gateway:ratelimit:test:';

describe('rate-limit store in front of a Redis that goes silent', () => {
  let server: ServerHandle;
  let silence: TcpProxy;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis();
    silence = await startTcpProxy(server.url);
    // As main.ts connects (with a timeout a healthy Redis meets even on a loaded machine).
    redis = new Redis(silence.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1_000,
    });
    // Ready checks time out too while it is silent.
    redis.on('error', () => {});
    await eventually(() => redis.status === 'ready', { what: 'redis ready' });
  });

  afterAll(async () => {
    redis?.disconnect();
    await silence?.close();
    await server?.stop();
  });

  /** Counts one request of `client` through a store behind `gate`. */
  function counter(gate: RedisGate) {
    const Store = gatedRedisStore(redis, NAMESPACE, gate);
    const store = new Store();
    return () =>
      new Promise<{ current: number } | Error>((resolve) =>
        store.incr(
          'client',
          (error, result) => resolve(error ?? (result as { current: number })),
          60_000,
          10,
        ),
      );
  }

  it('drops the stuck connection after a timeout and asks nothing more until the cool-down ends', async () => {
    const gate = createRedisGate(redis, pino({ level: 'silent' }), 60_000);
    const incr = counter(gate);

    expect(await incr()).toMatchObject({ current: 1 });
    silence.freeze();
    expect(await incr()).toMatchObject({ message: 'Command timed out' });
    // What the silent connection held is rejected, not left queued for as long as it stays open.
    await eventually(() => redis.commandQueue.length === 0, { what: 'an empty command queue' });
    for (let i = 0; i < 3; i++) {
      expect(await incr()).toBeInstanceOf(Error);
      expect(redis.commandQueue.length).toBe(0);
    }

    // Until here the gate refused because the connection was not ready; now it is, and only the
    // cool-down keeps the request from Redis.
    silence.thaw();
    await eventually(() => redis.status === 'ready', { what: 'redis ready again' });
    const sent = silence.countSent(NAMESPACE);
    expect(await incr()).toMatchObject({ message: 'rate limits are not asking redis' });
    expect(sent()).toBe(0);
  });
});
