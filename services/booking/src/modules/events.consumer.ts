import type { DomainEvent } from '@happening/contracts';
import { handleOnce } from '@happening/db';
import type { MessageContext } from '@happening/messaging';
import type { BookingContext } from '../context.ts';
import {
  afterCatalogEvent,
  applyCatalogEvent,
  noCatalogOutcome,
} from './inventory/catalog.consumer.ts';
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
        let outcome = noCatalogOutcome();
        // A change that does not commit leaves its event's keys dropped, or rebuilt and pending
        // (read as missing), so the next request rebuilds them from Postgres.
        const fresh = await handleOnce(
          ctx.db,
          { consumer: 'booking.inventory', messageId },
          async (trx) => {
            outcome = noCatalogOutcome();
            await applyCatalogEvent(ctx, trx, message, outcome);
          },
        );
        await afterCatalogEvent(ctx, message, fresh ? outcome : undefined);
        return;
      }
      default:
        return;
    }
  };
}
