import { z } from 'zod';

const isoDateTime = z.iso.datetime({ offset: true });
const seatNumbers = z.array(z.number().int().positive());

/** What every booking event says about the booking and its event, for notifications. */
const bookingFacts = z.object({
  bookingId: z.uuid(),
  eventId: z.uuid(),
  orgId: z.uuid(),
  userId: z.string().min(1),
  seats: z.number().int().positive(),
  eventName: z.string(),
  eventStartsAt: isoDateTime,
  /**
   * The catalog version of the event details the booking service decided with (its name and
   * start above). Absent from events published before it was added.
   */
  eventVersion: z.number().int().nonnegative().optional(),
});

export const bookingConfirmedV1 = bookingFacts.extend({ seatNumbers });

export const bookingWaitlistedV1 = bookingFacts.extend({
  waitingNumber: z.number().int().positive(),
  waitlistPosition: z.number().int().positive(),
});

export const CANCELLATION_REASONS = ['by_owner', 'by_organizer', 'event_cancelled'] as const;

export const bookingCancelledV1 = bookingFacts.extend({
  previousStatus: z.enum(['confirmed', 'waiting']),
  /** Seats released by this cancellation (empty for a waiting booking). */
  seatNumbers,
  reason: z.enum(CANCELLATION_REASONS),
  cancelledBy: z.string().min(1),
  note: z.string().optional(),
});

export const waitlistPromotedV1 = bookingFacts.extend({
  seatNumbers,
  waitingNumber: z.number().int().positive(),
});

/** Coalesced per event; `sequence` only grows, so consumers keep the newest figures. */
export const availabilityChangedV1 = z.object({
  eventId: z.uuid(),
  orgId: z.uuid(),
  totalSlots: z.number().int().nonnegative(),
  availableSlots: z.number().int().nonnegative(),
  confirmedSeats: z.number().int().nonnegative(),
  waitlistLength: z.number().int().nonnegative(),
  sequence: z.number().int().nonnegative(),
});
