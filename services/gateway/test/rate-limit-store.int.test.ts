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
import { createRedisGate, gatedRedisStore } from '../src/rate-limit-store.ts';

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

  it('drops the stuck connection after a timeout and asks nothing more until the cool-down ends', async () => {
    const gate = createRedisGate(redis, pino({ level: 'silent' }), 60_000);
    const Store = gatedRedisStore(redis, 'gateway:ratelimit:test:', gate);
    const store = new Store();
    const incr = () =>
      new Promise<{ current: number } | Error>((resolve) =>
        store.incr(
          'client',
          (error, result) => resolve(error ?? (result as { current: number })),
          60_000,
          10,
        ),
      );

    expect(await incr()).toMatchObject({ current: 1 });
    silence.freeze();
    expect(await incr()).toMatchObject({ message: 'Command timed out' });
    // What the silent connection held is rejected, not left queued for as long as it stays open.
    await eventually(() => redis.commandQueue.length === 0, { what: 'an empty command queue' });
    for (let i = 0; i < 3; i++) {
      expect(await incr()).toBeInstanceOf(Error);
      expect(redis.commandQueue.length).toBe(0);
    }
  });
});
