import { type AvailabilityFigures, seatsShown } from '../availability/availability.model.ts';
import { isFinished, statusAt } from '../lifecycle/lifecycle.policy.ts';
import type { CatalogEvent } from './event.model.ts';

/**
 * The event as the HTTP API shows it at `now`, with the seats booking last reported. Its status is
 * the one the clock implies (as the commands judge it), not the stored one the lifecycle job may
 * not have moved on yet; a finished event shows no seats.
 */
export function toRepresentation(
  event: CatalogEvent,
  figures: AvailabilityFigures | undefined,
  now: Date,
) {
  const status = statusAt(event, now);
  return {
    id: event.id,
    orgId: event.orgId,
    name: event.name,
    description: event.description,
    category: event.category,
    startsAt: event.startsAt.toISOString(),
    endsAt: event.endsAt.toISOString(),
    timezone: event.timezone,
    venue: event.venue,
    totalSlots: event.totalSlots,
    ...seatsShown(event.totalSlots, figures, isFinished(status)),
    status,
    visibility: event.visibility,
    waitlistPolicy: event.waitlistPolicy,
    maxSeatsPerBooking: event.maxSeatsPerBooking,
    version: event.version,
    publishedAt: event.publishedAt?.toISOString() ?? null,
    createdAt: event.createdAt.toISOString(),
    updatedAt: event.updatedAt.toISOString(),
  };
}
export type EventRepresentation = ReturnType<typeof toRepresentation>;
