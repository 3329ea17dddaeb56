import {
  eventCategorySchema,
  eventStatusSchema,
  requestIdSchema,
  visibilitySchema,
  waitlistPolicySchema,
} from '@happening/contracts';
import { pageQuerySchema } from '@happening/service-kit';
import { z } from 'zod';
import { MAX_TOTAL_SLOTS } from './event.model.ts';
import { isIanaTimeZone, timeZoneName } from './time-zone.ts';

const isoDateTime = z.iso.datetime({ offset: true });

// The event's snapshots carry times as `toISOString()`, which writes years outside 0001–9999 as
// `+010000-…`: a time whose UTC instant is outside them would only fail once the snapshot is built.
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');
const inFourDigitYears = (value: string) => {
  const instant = Date.parse(value);
  return Number.isNaN(instant) || (instant >= FIRST_INSTANT && instant <= LAST_INSTANT);
};
const eventTime = isoDateTime.refine(
  inFourDigitYears,
  'must fall within the years 0001-9999 in UTC',
);
// Stored as Intl spells it, so `Europe/PARIS` and `Europe/Paris` are one zone (and a PATCH from one
// to the other changes nothing).
const timezone = z
  .string()
  .max(64)
  .refine(isIanaTimeZone, 'must be an IANA time zone name')
  .overwrite((value) => timeZoneName(value) ?? value);

const fields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000),
  category: eventCategorySchema,
  startsAt: eventTime,
  endsAt: eventTime,
  timezone,
  venue: z.string().max(500),
  totalSlots: z.number().int().min(1).max(MAX_TOTAL_SLOTS),
  visibility: visibilitySchema,
  waitlistPolicy: waitlistPolicySchema,
  maxSeatsPerBooking: z
    .number()
    .int()
    .min(1)
    .max(100)
    .describe("At most the event's totalSlots (after the change, for a PATCH)."),
};

const startsBeforeEnd = (body: { startsAt?: string; endsAt?: string }) =>
  body.startsAt === undefined ||
  body.endsAt === undefined ||
  Date.parse(body.startsAt) < Date.parse(body.endsAt);
const timeOrder = { path: ['endsAt'], message: 'must be after startsAt' };

export const createEventBodySchema = z
  .strictObject({
    ...fields,
    description: fields.description.default(''),
    venue: fields.venue.default(''),
    visibility: fields.visibility.default('public'),
    waitlistPolicy: fields.waitlistPolicy.default('fifo'),
    // Its default depends on totalSlots, so the decider fills it in.
    maxSeatsPerBooking: fields.maxSeatsPerBooking
      .optional()
      .describe('At most totalSlots; when omitted, the smaller of 10 and totalSlots.'),
  })
  .refine(startsBeforeEnd, timeOrder);

export const patchEventBodySchema = z
  .strictObject({
    ...fields,
    totalSlots: fields.totalSlots.describe(
      'A cut below the seats booking reported confirmed is refused (409 CAPACITY_BELOW_CONFIRMED); a raise never is, even one that stays below them.',
    ),
  })
  .partial()
  .refine(startsBeforeEnd, timeOrder);

// Publishing takes no input, but a body it would silently drop is refused like any unknown field;
// fastify hands a request without a body to validation as null.
export const publishEventBodySchema = z.strictObject({}).nullish();

export const cancelEventBodySchema = z.strictObject({ reason: z.string().trim().min(1).max(1000) });

export const eventParamsSchema = z.object({ eventId: requestIdSchema });
export const orgParamsSchema = z.object({ orgId: requestIdSchema });

export const orgEventsQuerySchema = pageQuerySchema.extend({
  status: eventStatusSchema
    .optional()
    .describe('The status the events show: the one the clock implies, as in their answers.'),
});

export const publicEventsQuerySchema = pageQuerySchema
  .extend({
    q: z.string().trim().min(1).max(200).optional(),
    category: eventCategorySchema.optional(),
    orgId: requestIdSchema.optional(),
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
  })
  .refine((query) => !query.from || !query.to || Date.parse(query.from) <= Date.parse(query.to), {
    path: ['to'],
    message: 'must not be before from',
  });

/** What a list cursor holds: the (startsAt, id) of the last event on the page. */
export const listCursorSchema = z.object({ s: isoDateTime, i: z.uuid() });

export const eventSchema = z.object({
  id: z.uuid(),
  orgId: z.uuid(),
  name: z.string(),
  description: z.string(),
  category: eventCategorySchema,
  startsAt: isoDateTime,
  endsAt: isoDateTime,
  timezone: z.string(),
  venue: z.string(),
  totalSlots: z.number().int(),
  availableSlots: z.number().int(),
  waitlistLength: z.number().int(),
  status: eventStatusSchema.describe(
    "The status the service's clock implies: an event whose start or end passed reads ongoing or completed before the lifecycle job moves it.",
  ),
  visibility: visibilitySchema,
  waitlistPolicy: waitlistPolicySchema,
  maxSeatsPerBooking: z.number().int(),
  version: z.number().int(),
  publishedAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});

export const eventPageSchema = z.object({
  items: z.array(eventSchema),
  nextCursor: z.string().nullable(),
});
