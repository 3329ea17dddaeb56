import { type ServerHandle, startRedis } from '@happening/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureRedisReference } from '../bench/redis.reference.ts';

let server: ServerHandle;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(() => server?.stop());

describe("the bench's Redis reference", () => {
  it('counts the reserve script calls Redis answered, and leaves no event keys behind', async () => {
    const measured = await measureRedisReference({
      redisUrl: server.url,
      inFlight: 8,
      seconds: 0.3,
      seats: 20,
    });
    expect(measured.calls).toBeGreaterThan(20);
    expect(measured.callsPerSecond).toBeCloseTo(measured.calls / measured.seconds, 6);
    const redis = new Redis(server.url);
    try {
      // Only the answers kept for calls sent again remain (they expire on their own).
      const left = await redis.keys('event:*');
      expect(left.filter((key) => !key.includes(':answer:'))).toEqual([]);
    } finally {
      await redis.quit();
    }
  });
});
