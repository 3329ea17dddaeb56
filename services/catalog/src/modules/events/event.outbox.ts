import { buildEvent, type DomainEvent, type EventData, type EventType } from '@happening/contracts';
import type { PatchOutcome } from './event.decider.ts';
import type { CatalogEvent, EventStatus } from './event.model.ts';
import { toSnapshot } from './event.snapshot.ts';

/** What the published events carry besides their data and time: the request or job id. */
export interface Trace {
  correlationId: string;
}

/**
 * Every event is dated as the version it announces (`updatedAt`, from the service's clock, as
 * `createdAt` and `publishedAt` are, and never before the last change), not by the time the
 * outbox row happens to be built or the clock of whoever made the change.
 */
function catalogEvent<T extends EventType>(
  type: T,
  event: CatalogEvent,
  data: EventData<T>,
  trace: Trace,
): DomainEvent {
  return buildEvent(type, data, {
    source: 'catalog',
    orgId: event.orgId,
    aggregate: { type: 'event', id: event.id, version: event.version },
    correlationId: trace.correlationId,
    occurredAt: event.updatedAt,
  }) as DomainEvent;
}

export const eventCreated = (event: CatalogEvent, trace: Trace) =>
  catalogEvent('catalog.event_created', event, toSnapshot(event), trace);

export function eventPublished(event: CatalogEvent, trace: Trace) {
  if (event.publishedAt === null) throw new Error('a published event has a publication time');
  return catalogEvent(
    'catalog.event_published',
    event,
    { ...toSnapshot(event), publishedAt: event.publishedAt.toISOString() },
    trace,
  );
}

/**
 * The events one accepted PATCH publishes: capacity and other changes separately. A draft's
 * capacity is no inventory yet: it is one more change in `event_updated`, so a consumer can tell
 * that an `event_capacity_changed` it cannot place belongs to a published event whose publish it
 * has not handled yet.
 */
export function eventChanged(
  outcome: PatchOutcome,
  trace: Trace,
  changedBy: string,
): DomainEvent[] {
  const { event, capacity } = outcome;
  const draftCapacity = event.status === 'draft' ? capacity : undefined;
  const changes = draftCapacity
    ? {
        ...outcome.changes,
        totalSlots: { from: draftCapacity.previousTotalSlots, to: draftCapacity.totalSlots },
      }
    : outcome.changes;
  const published: DomainEvent[] = [];
  if (capacity !== undefined && draftCapacity === undefined) {
    published.push(
      catalogEvent(
        'catalog.event_capacity_changed',
        event,
        { eventId: event.id, orgId: event.orgId, ...capacity, changedBy },
        trace,
      ),
    );
  }
  if (Object.keys(changes).length > 0) {
    published.push(
      catalogEvent(
        'catalog.event_updated',
        event,
        { eventId: event.id, orgId: event.orgId, changes, event: toSnapshot(event) },
        trace,
      ),
    );
  }
  return published;
}

export const eventCancelled = (
  event: CatalogEvent,
  cancellation: { reason: string; cancelledBy: string },
  trace: Trace,
) =>
  catalogEvent(
    'catalog.event_cancelled',
    event,
    {
      eventId: event.id,
      orgId: event.orgId,
      name: event.name,
      startsAt: event.startsAt.toISOString(),
      ...cancellation,
    },
    trace,
  );

export const eventStatusChanged = (
  event: CatalogEvent,
  from: EventStatus,
  to: EventStatus,
  trace: Trace,
) =>
  catalogEvent(
    'catalog.event_status_changed',
    event,
    { eventId: event.id, orgId: event.orgId, from, to },
    trace,
  );
