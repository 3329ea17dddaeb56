import type { Source } from './envelope.ts';
import type { EventType } from './registry.ts';

/** The context of an event type: its prefix before the dot (`identity` of `identity.member_joined`). */
export type EventContext = EventType extends `${infer Context}.${string}` ? Context : never;

/**
 * The one service that publishes each context's events. Consumers trust an event only from its
 * owner: any pod on the broker could otherwise publish, say, `identity.member_joined` as orgAdmin.
 */
export const EVENT_OWNERS = {
  identity: 'identity-org',
  catalog: 'catalog',
  booking: 'booking',
  notification: 'notification',
} as const satisfies Record<EventContext, Source>;

/** The service that publishes `type`. */
export function ownerOf(type: EventType): Source {
  return EVENT_OWNERS[type.slice(0, type.indexOf('.')) as EventContext];
}

/**
 * Why a delivered event cannot be trusted, or `undefined` when it can: it must have been published
 * with its own type as routing key (which the broker's topic permissions restrict per publisher)
 * and name its type's owner as source.
 */
export function untrustedOrigin(
  event: { type: EventType; source: Source },
  routingKey: string,
): string | undefined {
  if (routingKey !== event.type) {
    return `routing key ${routingKey} is not the event's type ${event.type}`;
  }
  const owner = ownerOf(event.type);
  if (event.source !== owner) {
    return `${event.type} is published by ${owner}, not ${event.source}`;
  }
  return undefined;
}
