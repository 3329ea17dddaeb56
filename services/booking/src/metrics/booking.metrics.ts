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

/** People waiting per event; an event without a waitlist has no series. */
export const waitlistLength = new Gauge({
  name: 'happening_waitlist_length',
  help: 'People waiting per event (events with a waitlist only)',
  labelNames: ['event_id'] as const,
  registers: [metricsRegistry],
});

/** Adds committed outcomes (no-op for 0). */
export function countBookings(outcome: BookingOutcome, n = 1): void {
  if (n > 0) bookingsTotal.inc({ outcome }, n);
}

/** Sets an event's waitlist length as Redis answered it; 0 drops the series. */
export function setWaitlistLength(eventId: string, length: number): void {
  if (length > 0) waitlistLength.set({ event_id: eventId }, length);
  else waitlistLength.remove({ event_id: eventId });
}
