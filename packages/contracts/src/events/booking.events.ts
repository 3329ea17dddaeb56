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
  /** When the event ends, as the booking service knows it. Absent from events published before it was added. */
  eventEndsAt: isoDateTime.optional(),
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

/** Why a booking was cancelled, as version 1 of `booking.booking_cancelled` says it. */
export const CANCELLATION_REASONS_V1 = ['by_owner', 'by_organizer', 'event_cancelled'] as const;

/**
 * Why a booking was cancelled. `event_completed`: it was still waiting when its event took place,
 * and the waitlist closed (`cancelledBy` is then the event's organization).
 */
export const CANCELLATION_REASONS = [...CANCELLATION_REASONS_V1, 'event_completed'] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

export const bookingCancelledV1 = bookingFacts.extend({
  previousStatus: z.enum(['confirmed', 'waiting']),
  /** Seats released by this cancellation (empty for a waiting booking). */
  seatNumbers,
  reason: z.enum(CANCELLATION_REASONS_V1),
  cancelledBy: z.string().min(1),
  note: z.string().optional(),
});

/** Version 2 adds the reason `event_completed`; a version-1 reader would refuse it. */
export const bookingCancelledV2 = bookingCancelledV1.extend({
  reason: z.enum(CANCELLATION_REASONS),
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
