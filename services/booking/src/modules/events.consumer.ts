import type { DomainEvent } from '@happening/contracts';
import { handleOnce } from '@happening/db';
import { type MessageContext, subscribedBy } from '@happening/messaging';
import type { BookingContext } from '../context.ts';
import {
  afterCatalogEvent,
  applyCatalogEvent,
  noCatalogOutcome,
} from './inventory/catalog.consumer.ts';
import { dropDiverged } from './inventory/reconcile.service.ts';
import { applyMemberEvent } from './memberships/membership.projection.ts';

/** The handler of the `booking.events` queue: each message applied once (inbox), then Redis. */
export function eventsHandler(ctx: BookingContext) {
  return async (event: DomainEvent, context: MessageContext): Promise<void> => {
    const messageId = context.messageId || event.id;
    const message = subscribedBy('booking', event);
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
        let outcome = noCatalogOutcome();
        let fresh: boolean;
        try {
          fresh = await handleOnce(
            ctx.db,
            { consumer: 'booking.inventory', messageId },
            async (trx) => {
              outcome = noCatalogOutcome();
              await applyCatalogEvent(ctx, trx, message, outcome);
            },
          );
        } catch (error) {
          // Redis was rebuilt (its keys pending, read as missing) or dropped for a change that
          // did not commit. Dropped too, so replicas of a release that ignores the pending mark
          // do not decide on them during a rolling upgrade.
          if (outcome.redisChanged) await dropDiverged(ctx, message.data.eventId);
          throw error;
        }
        await afterCatalogEvent(ctx, message, fresh ? outcome : undefined);
        return;
      }
      default:
        message satisfies never;
    }
  };
}
