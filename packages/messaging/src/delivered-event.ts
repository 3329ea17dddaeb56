import { type DomainEvent, parseEvent, untrustedOrigin } from '@happening/contracts';
import { UntrustedEvent } from './errors.ts';
import type { MessageContext } from './message-context.ts';

/**
 * A contracts-valid domain event that its delivery vouches for: routed under its own type and
 * naming the type's owner as source. Throws `UntrustedEvent` for any other.
 */
export function parseDeliveredEvent(raw: unknown, context: MessageContext): DomainEvent {
  const event = parseEvent(raw);
  const reason = untrustedOrigin(event, context.routingKey);
  if (reason) throw new UntrustedEvent(event.type, event.source, reason);
  return event;
}
