import type { DomainEvent } from '@happening/contracts';
import { handleOnce } from '@happening/db';
import type { MessageContext } from '@happening/messaging';
import type { BookingContext } from '../context.ts';
import { countBookings } from '../metrics/booking.metrics.ts';
import { afterCatalogEvent, applyCatalogEvent } from './inventory/catalog.consumer.ts';
import { applyMemberEvent } from './memberships/membership.projection.ts';

/** The handler of the `booking.events` queue: each message applied once (inbox), then Redis. */
export function eventsHandler(ctx: BookingContext) {
  return async (message: DomainEvent, context: MessageContext): Promise<void> => {
    const messageId = context.messageId || message.id;
    switch (message.type) {
      case 'identity.member_joined':
      case 'identity.member_role_changed':
      case 'identity.member_removed':
        await handleOnce(ctx.db, { consumer: 'booking.memberships', messageId }, (trx) =>
          applyMemberEvent(trx, message),
        );
        return;
      case 'catalog.event_published':
      case 'catalog.event_updated':
      case 'catalog.event_capacity_changed':
      case 'catalog.event_status_changed':
      case 'catalog.event_cancelled': {
        let followUp: Awaited<ReturnType<typeof applyCatalogEvent>>;
        const outcomes = { cancelled: 0 };
        const fresh = await handleOnce(
          ctx.db,
          { consumer: 'booking.inventory', messageId },
          async (trx) => {
            outcomes.cancelled = 0;
            followUp = await applyCatalogEvent(ctx, trx, message, outcomes);
          },
        );
        if (fresh) countBookings('cancelled', outcomes.cancelled);
        // A redelivery still rebuilds: the first delivery may have died between commit and Redis.
        await afterCatalogEvent(ctx, message, fresh ? followUp : 'reconcile');
        if (fresh) ctx.wakeRelay();
        return;
      }
      default:
        return;
    }
  };
}
