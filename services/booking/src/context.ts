import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Batcher, KeyedBatcher } from './batcher.ts';
import type { BookingDb } from './db/database.ts';
import type { BatchedBooking, BatchedBookRequest } from './modules/booking/book.batch.ts';
import type { BatchedCancel, BatchedCancelRequest } from './modules/booking/cancel.batch.ts';
import type { Inventory } from './redis/inventory.client.ts';

/** Something changed an event's availability; publishing it is coalesced per event. */
export interface AvailabilitySignal {
  touch(eventId: string): void;
}

/** Everything the booking commands, consumers and routes work with. */
export interface BookingContext {
  db: Kysely<BookingDb>;
  inventory: Inventory;
  logger: Logger;
  availability: AvailabilitySignal;
  /** Concurrent new bookings, grouped into shared transactions. */
  newBookings: Batcher<BatchedBookRequest, BatchedBooking>;
  /** Concurrent cancellations, batched per event into shared transactions. */
  cancellations: KeyedBatcher<BatchedCancelRequest, BatchedCancel>;
  /** Called after committing outbox rows, so the relay publishes at once. */
  wakeRelay(): void;
  settings: {
    /** TTL of the per-person booking lock. */
    lockTtlMs: number;
    /** How long a booking waits for an event's inventory rebuild before a 503. */
    rebuildWaitMs: number;
  };
  now(): Date;
}
