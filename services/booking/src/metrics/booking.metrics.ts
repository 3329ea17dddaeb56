import { metricsRegistry } from '@happening/service-kit';
import { Counter, Gauge } from 'prom-client';

export type BookingOutcome = 'confirmed' | 'waitlisted' | 'promoted' | 'cancelled';

/** Booking outcomes, counted once their transaction has committed. */
export const bookingsTotal = new Counter({
  name: 'happening_bookings_total',
  help: 'Booking outcomes (confirmed, waitlisted, promoted, cancelled), counted after commit',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** Reads events' waitlist lengths from Redis, in the order given. */
export type WaitlistLengths = (eventIds: readonly string[]) => Promise<readonly number[]>;

let readWaitlistLengths: WaitlistLengths | undefined;
/** Events this replica has a series for, each with when (in setting order) it was last set. */
const trackedEvents = new Map<string, number>();
let settings = 0;

/**
 * People waiting per event; an event without a waitlist has no series. A series is set by the
 * replica whose request or availability update saw the waitlist; another replica may have
 * emptied it since, so each scrape reads the lengths of the events it has series for again from
 * Redis (one pipelined round trip) and drops the ones that emptied.
 */
export const waitlistLength = new Gauge({
  name: 'happening_waitlist_length',
  help: 'People waiting per event (events with a waitlist only)',
  labelNames: ['event_id'] as const,
  registers: [metricsRegistry],
  async collect() {
    if (readWaitlistLengths === undefined || trackedEvents.size === 0) return;
    const read = [...trackedEvents];
    // Redis unreachable: the scrape shows the values last seen rather than failing.
    const lengths = await readWaitlistLengths(read.map(([eventId]) => eventId)).catch(
      () => undefined,
    );
    if (lengths === undefined) return;
    for (const [i, [eventId, setAt]] of read.entries()) {
      // Set (or dropped) again while Redis was read: that value is newer than the one read.
      if (trackedEvents.get(eventId) === setAt) setWaitlistLength(eventId, lengths[i] ?? 0);
    }
  },
});

/** Where each scrape reads the waitlist lengths again. */
export function refreshWaitlistLengthsWith(read: WaitlistLengths): void {
  readWaitlistLengths = read;
}

/** Adds committed outcomes (no-op for 0). */
export function countBookings(outcome: BookingOutcome, n = 1): void {
  if (n > 0) bookingsTotal.inc({ outcome }, n);
}

/** Sets an event's waitlist length as Redis answered it; 0 drops the series. */
export function setWaitlistLength(eventId: string, length: number): void {
  if (length > 0) {
    waitlistLength.set({ event_id: eventId }, length);
    settings += 1;
    trackedEvents.set(eventId, settings);
  } else {
    waitlistLength.remove({ event_id: eventId });
    trackedEvents.delete(eventId);
  }
}
