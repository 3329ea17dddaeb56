import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Inventory } from '../src/redis/inventory.client.ts';

export interface RedisReference {
  /** Reserve script calls answered per second. */
  callsPerSecond: number;
  calls: number;
  seconds: number;
}

/**
 * (c) Redis alone: the reserve script every booking runs, called as the service calls it (through
 * `Inventory`, on one connection, `inFlight` calls outstanding) for `seconds` on an event of its
 * own with `seats` seats, each call asking 1–4 seats as the sale's users do, so most end up
 * waiting as in the sale. The event's keys are dropped afterwards.
 */
export async function measureRedisReference(options: {
  redisUrl: string;
  inFlight: number;
  seconds: number;
  seats: number;
}): Promise<RedisReference> {
  const redis = new Redis(options.redisUrl);
  const inventory = new Inventory(redis);
  const eventId = randomUUID();
  try {
    const { generation } = await inventory.rebuild(eventId, {
      totalSlots: options.seats,
      policy: 'fifo',
      lastWaitingNumber: 0,
      lastAcceptedSeq: 0,
      bookedSeats: [],
      waiting: [],
    });
    await inventory.committed(eventId, generation);
    let calls = 0;
    const started = performance.now();
    const deadline = started + options.seconds * 1_000;
    await Promise.all(
      Array.from({ length: options.inFlight }, async () => {
        while (performance.now() < deadline) {
          const seats = (calls % 4) + 1;
          const answer = await inventory.reserve(
            eventId,
            { bookingId: randomUUID(), seats },
            generation,
          );
          if (answer.kind !== 'confirmed' && answer.kind !== 'waiting') {
            throw new Error(`reserve answered ${answer.kind}`);
          }
          calls += 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1_000;
    return { callsPerSecond: calls / seconds, calls, seconds };
  } finally {
    await inventory.drop(eventId).catch(() => undefined);
    await redis.quit();
  }
}
