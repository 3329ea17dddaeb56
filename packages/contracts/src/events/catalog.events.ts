import { z } from 'zod';

export const EVENT_CATEGORIES = [
  'concert',
  'webinar',
  'hackathon',
  'conference',
  'workshop',
  'meetup',
  'other',
] as const;
export const EVENT_STATUSES = ['draft', 'upcoming', 'ongoing', 'completed', 'cancelled'] as const;
export const WAITLIST_POLICIES = ['fifo', 'first_fit'] as const;
export const VISIBILITIES = ['public', 'members'] as const;

export const eventCategorySchema = z.enum(EVENT_CATEGORIES);
export const eventStatusSchema = z.enum(EVENT_STATUSES);
export const waitlistPolicySchema = z.enum(WAITLIST_POLICIES);
export const visibilitySchema = z.enum(VISIBILITIES);

const isoDateTime = z.iso.datetime({ offset: true });

/** The event as the catalog holds it; carried whole so consumers need no call back. */
export const eventSnapshotV1 = z.object({
  eventId: z.uuid(),
  orgId: z.uuid(),
  name: z.string().min(1),
  description: z.string(),
  category: eventCategorySchema,
  startsAt: isoDateTime,
  endsAt: isoDateTime,
  timezone: z.string().min(1),
  venue: z.string(),
  totalSlots: z.number().int().min(1).max(100_000),
  status: eventStatusSchema,
  visibility: visibilitySchema,
  waitlistPolicy: waitlistPolicySchema,
  maxSeatsPerBooking: z.number().int().min(1),
  version: z.number().int().positive(),
});

export const eventCreatedV1 = eventSnapshotV1;

/** Everything the booking service needs to open the event for bookings. */
export const eventPublishedV1 = eventSnapshotV1.extend({ publishedAt: isoDateTime });

/** `changes` names each changed field with its old and new value; `event` is the new state. */
export const eventUpdatedV1 = z.object({
  eventId: z.uuid(),
  orgId: z.uuid(),
  changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
  event: eventSnapshotV1,
});

export const eventCapacityChangedV1 = z.object({
  eventId: z.uuid(),
  orgId: z.uuid(),
  previousTotalSlots: z.number().int().min(1),
  totalSlots: z.number().int().min(1).max(100_000),
  /** Who changed it (a user id). Absent from events published before it was added. */
  changedBy: z.string().min(1).optional(),
});

export const eventStatusChangedV1 = z.object({
  eventId: z.uuid(),
  orgId: z.uuid(),
  from: eventStatusSchema,
  to: eventStatusSchema,
});

export const eventCancelledV1 = z.object({
  eventId: z.uuid(),
  orgId: z.uuid(),
  name: z.string(),
  startsAt: isoDateTime,
  reason: z.string(),
  cancelledBy: z.string().min(1),
});
