import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import RedisStore from '@fastify/rate-limit/store/RedisStore.js';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

// ioredis' error once `commandTimeout` passes; it carries no code.
const TIMED_OUT = 'Command timed out';

/** Whether the rate limits may ask Redis, shared by every limiter on the same client. */
export interface RedisGate {
  /** False while Redis is not connected, or cooling down after a timeout: fail open at once. */
  open(): boolean;
  /** Told of each answer or error from Redis. */
  settled(error: Error | null): void;
}

/**
 * A Redis that stops answering without closing the connection fails each command only after
 * ioredis' `commandTimeout`, and leaves it queued on the client (and its bytes in the socket).
 * After one timeout the limiters skip Redis for `coolDownMs`, so a request waits for one timeout
 * at most, once per cool-down; and the stuck connection is dropped (`disconnect(true)` rejects
 * what it holds and reconnects), so nothing piles up while Redis is silent.
 */
export function createRedisGate(
  redis: Redis,
  logger: FastifyBaseLogger,
  coolDownMs: number,
): RedisGate {
  let coolingUntil = 0;
  let failingOpen = false;
  const failOpen = (reason: string) => {
    if (failingOpen) return;
    failingOpen = true;
    logger.warn({ reason }, 'rate limits let requests through without counting');
  };
  return {
    open() {
      if (redis.status !== 'ready') {
        failOpen(`redis ${redis.status}`);
        return false;
      }
      return Date.now() >= coolingUntil;
    },
    settled(error) {
      if (error?.message === TIMED_OUT) {
        // Concurrent requests time out together: drop the connection once.
        if (Date.now() < coolingUntil) return;
        coolingUntil = Date.now() + coolDownMs;
        failOpen('redis timed out');
        redis.disconnect(true);
      } else if (error === null && failingOpen) {
        failingOpen = false;
        logger.info('rate limits count in redis again');
      }
    },
  };
}

// Refused while the gate is shut; the limiter lets the request through as on any Redis error.
const GATE_SHUT = new Error('rate limits are not asking redis');

class GatedStore implements FastifyRateLimitStore {
  constructor(
    private readonly inner: RedisStore,
    private readonly gate: RedisGate,
  ) {}

  incr(
    key: string,
    callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
    timeWindow?: number,
    max?: number,
  ): void {
    if (!this.gate.open()) {
      callback(GATE_SHUT);
      return;
    }
    this.inner.incr(
      key,
      (error, result) => {
        this.gate.settled(error);
        callback(error, result);
      },
      timeWindow,
      max,
    );
  }

  child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
    return new GatedStore(this.inner.child(routeOptions), this.gate);
  }
}

/** @fastify/rate-limit's own Redis store under `nameSpace`, asking Redis only while `gate` is open. */
export function gatedRedisStore(
  redis: Redis,
  nameSpace: string,
  gate: RedisGate,
): FastifyRateLimitStoreCtor & (new () => GatedStore) {
  return class extends GatedStore {
    constructor() {
      // Fixed windows, as the limiter's defaults (no continueExceeding, no exponentialBackoff).
      super(new RedisStore(false, false, redis, nameSpace), gate);
    }
  };
}
