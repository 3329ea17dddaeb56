import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Batcher, KeyedBatcher } from './batcher.ts';
import { bookingDefaults } from './config.ts';
import type { BookingContext } from './context.ts';
import type { BookingDb } from './db/database.ts';
import {
  type AvailabilityPublisher,
  createAvailabilityPublisher,
} from './modules/availability/availability.publisher.ts';
import { bookBatch } from './modules/booking/book.batch.ts';
import { cancelBatch } from './modules/booking/cancel.batch.ts';
import { Inventory } from './redis/inventory.client.ts';

export interface ContextOptions {
  db: Kysely<BookingDb>;
  redis: Redis;
  logger: Logger;
  lockTtlMs?: number;
  rebuildWaitMs?: number;
  availabilityDebounceMs?: number;
  /** Most new bookings (or cancellations) sharing one transaction. */
  bookingBatchSize?: number;
  /** Most booking batches running at once; each holds a pooled connection. */
  bookingBatchesInFlight?: number;
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
    debounceMs: options.availabilityDebounceMs ?? bookingDefaults.availabilityDebounceMs,
  });
  const batching = {
    maxSize: options.bookingBatchSize ?? bookingDefaults.batchSize,
    maxInFlight: options.bookingBatchesInFlight ?? bookingDefaults.batchesInFlight,
  };
  const ctx: BookingContext = {
    db: options.db,
    inventory,
    logger: options.logger,
    availability,
    newBookings: new Batcher((requests) => bookBatch(ctx, requests), batching),
    // Per event, one batch at a time: cancellations of one event queue on its release lock
    // anyway, so a second batch would wait in Postgres, holding a connection, instead of growing
    // this one; and one event's held lock never delays another event's cancellations. Over all
    // events, as many at once as booking batches, so they cannot take the whole pool.
    cancellations: new KeyedBatcher(
      (request) => request.eventId,
      (requests) => cancelBatch(ctx, requests),
      { ...batching, maxInFlight: 1, maxRunning: batching.maxInFlight },
    ),
    wakeRelay: () => wake(),
    settings: {
      lockTtlMs: options.lockTtlMs ?? bookingDefaults.lockTtlMs,
      rebuildWaitMs: options.rebuildWaitMs ?? bookingDefaults.rebuildWaitMs,
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
