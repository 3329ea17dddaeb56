import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Batcher, KeyedBatcher } from './batcher.ts';
import { bookingDefaults } from './config.ts';
import type { BookingContext } from './context.ts';
import type { BookingDb } from './db/database.ts';
import { refreshWaitlistLengthsWith } from './metrics/booking.metrics.ts';
import {
  type AvailabilityPublisher,
  createAvailabilityPublisher,
} from './modules/availability/availability.publisher.ts';
import { bookBatch } from './modules/booking/book.batch.ts';
import { cancelBatch } from './modules/booking/cancel.batch.ts';
import { Inventory } from './redis/inventory.client.ts';

/** What the context tells the outbox relay: rows to publish, and that a burst is over. */
export interface RelayControl {
  wake(): void;
  resume(): void;
}

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
  /** Points `ctx.wakeRelay` and the end of a booking burst at the running outbox relay. */
  connectRelay(relay: RelayControl): void;
} {
  let relay: RelayControl = { wake: () => undefined, resume: () => undefined };
  const inventory = new Inventory(options.redis);
  refreshWaitlistLengthsWith((eventIds) => inventory.waitlistLengths(eventIds));
  const availability = createAvailabilityPublisher({
    db: options.db,
    inventory,
    logger: options.logger,
    wakeRelay: () => relay.wake(),
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
    newBookings: new Batcher((requests) => bookBatch(ctx, requests), {
      ...batching,
      // The relay holds back while bookings are processed (see `startRuntime`).
      onIdle: () => relay.resume(),
    }),
    // Per event, one batch at a time: cancellations of one event queue on its release lock
    // anyway, so a second batch would wait in Postgres, holding a connection, instead of growing
    // this one; and one event's held lock never delays another event's cancellations. Over all
    // events, as many at once as booking batches, so they cannot take the whole pool.
    cancellations: new KeyedBatcher(
      (request) => request.eventId,
      (requests) => cancelBatch(ctx, requests),
      { ...batching, maxInFlight: 1, maxRunning: batching.maxInFlight },
    ),
    wakeRelay: () => relay.wake(),
    settings: {
      lockTtlMs: options.lockTtlMs ?? bookingDefaults.lockTtlMs,
      rebuildWaitMs: options.rebuildWaitMs ?? bookingDefaults.rebuildWaitMs,
    },
    now: options.now ?? (() => new Date()),
  };
  return {
    ctx,
    availability,
    connectRelay(running) {
      relay = running;
    },
  };
}
