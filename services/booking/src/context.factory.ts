import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { BookingContext } from './context.ts';
import type { BookingDb } from './db/database.ts';
import {
  type AvailabilityPublisher,
  createAvailabilityPublisher,
} from './modules/availability/availability.publisher.ts';
import { Inventory } from './redis/inventory.client.ts';

export interface ContextOptions {
  db: Kysely<BookingDb>;
  redis: Redis;
  logger: Logger;
  lockTtlMs?: number;
  rebuildWaitMs?: number;
  availabilityDebounceMs?: number;
  now?: () => Date;
}

/** Builds the context shared by routes, consumers and schedulers. */
export function createContext(options: ContextOptions): {
  ctx: BookingContext;
  availability: AvailabilityPublisher;
  /** Points `ctx.wakeRelay` at the running outbox relay. */
  setWake(wake: () => void): void;
} {
  let wake: () => void = () => undefined;
  const inventory = new Inventory(options.redis);
  const availability = createAvailabilityPublisher({
    db: options.db,
    inventory,
    logger: options.logger,
    wakeRelay: () => wake(),
    debounceMs: options.availabilityDebounceMs ?? 250,
  });
  const ctx: BookingContext = {
    db: options.db,
    inventory,
    logger: options.logger,
    availability,
    wakeRelay: () => wake(),
    settings: {
      lockTtlMs: options.lockTtlMs ?? 5_000,
      rebuildWaitMs: options.rebuildWaitMs ?? 2_000,
    },
    now: options.now ?? (() => new Date()),
  };
  return {
    ctx,
    availability,
    setWake(next) {
      wake = next;
    },
  };
}
