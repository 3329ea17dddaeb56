import type { DomainEvent, EventType } from '@happening/contracts';
import { UnprocessableMessage } from './errors.ts';
import {
  eventsExchangeTopology,
  mergeTopologies,
  serviceTopology,
  type Topology,
} from './topology.ts';

/**
 * The event types bound on each service's `<service>.events` queue: the one list of who consumes
 * what. A service consumes its queue's events and declares every queue here at start.
 */
export const EVENT_SUBSCRIPTIONS = {
  catalog: [
    'identity.member_joined',
    'identity.member_role_changed',
    'identity.member_removed',
    'booking.availability_changed',
  ],
  booking: [
    'catalog.event_published',
    'catalog.event_updated',
    'catalog.event_capacity_changed',
    'catalog.event_status_changed',
    'catalog.event_cancelled',
    'identity.member_joined',
    'identity.member_role_changed',
    'identity.member_removed',
  ],
  notification: [
    'booking.booking_confirmed',
    'booking.booking_waitlisted',
    'booking.booking_cancelled',
    'booking.waitlist_promoted',
    'catalog.event_updated',
    'catalog.event_cancelled',
    'identity.user_registered',
    'identity.member_invited',
    'identity.member_joined',
    'identity.member_role_changed',
    'identity.member_removed',
  ],
} as const satisfies Record<string, readonly EventType[]>;

export type SubscribingService = keyof typeof EVENT_SUBSCRIPTIONS;

/** The events `service`'s queue is bound to. */
export type SubscribedEvent<S extends SubscribingService> = Extract<
  DomainEvent,
  { type: (typeof EVENT_SUBSCRIPTIONS)[S][number] }
>;

/**
 * `event` as one `service` subscribes to, for a handler to switch over exhaustively: a case of a
 * type the queue is not bound to does not compile, nor does a subscribed type without one (with a
 * `never` default). An event of another type that reaches the queue anyway (a binding added by
 * hand) throws, so it goes to the DLQ with the reason instead of being acknowledged unseen.
 */
export function subscribedBy<S extends SubscribingService>(
  service: S,
  event: DomainEvent,
): SubscribedEvent<S> {
  const subscribed: readonly EventType[] = EVENT_SUBSCRIPTIONS[service];
  if (!subscribed.includes(event.type)) {
    throw new UnprocessableMessage(`${event.type} is not an event ${service} consumes`);
  }
  return event as SubscribedEvent<S>;
}

/** Every service with an events queue: catalog, booking, notification. */
export const SUBSCRIBING_SERVICES = Object.keys(EVENT_SUBSCRIPTIONS) as [
  SubscribingService,
  ...SubscribingService[],
];

/**
 * `happening.events` with the events queue, retry queues, DLQ and bindings of each consumer given
 * (all by default). Every service declares it at start, publishers included: queues used to be
 * declared only by their consumer, so an event published before its consumer first ran (a signup
 * on a fresh install, before catalog started) was parked in `happening.unrouted` and never
 * reached it. The consumers are those deployed (`EVENT_CONSUMERS`): a queue declared for a
 * service that is not running fills, unconsumed and uncapped, until RabbitMQ's memory or disk
 * alarm blocks every publisher. Declaring is idempotent as long as every service declares the
 * same arguments, so a queue's options (retry delays, delivery limit) belong here, never in one
 * service alone: a queue redeclared with other arguments fails with PRECONDITION_FAILED.
 */
export function platformTopology(
  consumers: Iterable<SubscribingService> = SUBSCRIBING_SERVICES,
): Topology {
  return mergeTopologies(
    eventsExchangeTopology(),
    ...[...new Set(consumers)].map((service) =>
      serviceTopology(service, { bindings: [...EVENT_SUBSCRIPTIONS[service]] }),
    ),
  );
}
