import { type AvailabilityFigures, seatsShown } from '../availability/availability.model.ts';
import { isFinished } from '../lifecycle/lifecycle.policy.ts';
import type { CatalogEvent } from './event.model.ts';

/** The event as the HTTP API shows it, with the seats booking last reported. */
export function toRepresentation(event: CatalogEvent, figures: AvailabilityFigures | undefined) {
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
    ...seatsShown(event.totalSlots, figures, isFinished(event.status)),
    status: event.status,
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
