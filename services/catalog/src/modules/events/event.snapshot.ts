import type { EventData } from '@happening/contracts';
import type { CatalogEvent } from './event.model.ts';

export type EventSnapshot = EventData<'catalog.event_created'>;

/** The event as the `catalog.*` events carry it. */
export function toSnapshot(event: CatalogEvent): EventSnapshot {
  return {
    eventId: event.id,
    orgId: event.orgId,
    name: event.name,
    description: event.description,
    category: event.category,
    startsAt: event.startsAt.toISOString(),
    endsAt: event.endsAt.toISOString(),
    timezone: event.timezone,
    venue: event.venue,
    totalSlots: event.totalSlots,
    status: event.status,
    visibility: event.visibility,
    waitlistPolicy: event.waitlistPolicy,
    maxSeatsPerBooking: event.maxSeatsPerBooking,
    version: event.version,
  };
}
