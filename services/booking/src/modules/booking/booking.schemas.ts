import { CANCELLATION_REASONS, requestIdSchema } from '@happening/contracts';
import { cursorTimestamp, pageLimit, pageQuerySchema } from '@happening/service-kit';
import { z } from 'zod';

export const bookingStatusSchema = z.enum(['confirmed', 'waiting', 'cancelled']);

export const bookingSchema = z.object({
  id: z.uuid(),
  eventId: z.uuid(),
  userId: z.string(),
  seats: z.number().int(),
  status: bookingStatusSchema,
  seatNumbers: z.array(z.number().int()),
  waitingNumber: z.number().int().nullable(),
  /** Live place in the waitlist (1 = next); null unless waiting. */
  waitlistPosition: z.number().int().nullable(),
  cancelledReason: z.enum(CANCELLATION_REASONS).nullable(),
  version: z.number().int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type BookingView = z.infer<typeof bookingSchema>;

// Unknown fields are refused, not dropped: a misspelt `seatNumbers` would book other seats.
export const createBookingBodySchema = z.strictObject({
  seats: z.number().int().min(1).max(100),
  seatNumbers: z.array(z.number().int().positive()).min(1).max(100).optional(),
});

// fastify hands a request without a body to validation as null.
export const cancelBookingBodySchema = z
  .strictObject({ note: z.string().max(500).optional() })
  .nullish();

// Redis keys and advisory lock keys are built from the id's text: lower case, always.
export const eventParamsSchema = z.object({ eventId: requestIdSchema });
export const bookingParamsSchema = z.object({ bookingId: requestIdSchema });

export const listQuerySchema = pageQuerySchema.extend({ status: bookingStatusSchema.optional() });
// Made from `toISOString()`; any such text is a valid Date (the repository passes one).
export const listCursorSchema = z.object({ createdAt: cursorTimestamp, id: z.uuid() });

export const bookingPageSchema = z.object({
  items: z.array(bookingSchema),
  nextCursor: z.string().nullable(),
});

// No global `position`: it numbers every organization's bookings, so sampling it would tell any
// booker the platform's volume. `version` orders a booking's own entries.
export const historyEntrySchema = z.object({
  version: z.number().int(),
  action: z.enum(['created', 'cancelled', 'promoted']),
  details: z.record(z.string(), z.unknown()),
  occurredAt: z.iso.datetime(),
});

export const availabilitySchema = z.object({
  totalSlots: z.number().int(),
  availableSlots: z.number().int(),
  waitlistLength: z.number().int(),
});

/** A seat map's page: more seats than a list's items, so a larger default and maximum. */
export const seatsQuerySchema = pageQuerySchema.extend({
  limit: pageLimit(10_000, 1_000),
});
export const seatsCursorSchema = z.object({ seatNo: z.number().int().min(1).max(2_147_483_647) });

export const seatsSchema = z.object({
  bookedSeats: z.array(z.number().int()),
  nextCursor: z.string().nullable(),
});
