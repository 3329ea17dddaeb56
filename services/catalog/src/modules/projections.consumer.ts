import type { DomainEvent } from '@happening/contracts';
import { handleOnce } from '@happening/db';
import { subscribedBy } from '@happening/messaging';
import type { Logger } from 'pino';
import type { CatalogDb } from '../database.ts';
import { applyAvailabilityChanged } from './availability/availability.projection.ts';
import { applyMembershipEvent } from './memberships/membership.projection.ts';

/** Inbox name of the projections consumer. */
export const PROJECTIONS_CONSUMER = 'catalog.projections';

/** Projects memberships and availability, each message once (inbox in the same transaction). */
export function projectionsHandler(db: CatalogDb, logger: Logger) {
  return async (event: DomainEvent): Promise<void> => {
    const handled = await handleOnce(
      db,
      { consumer: PROJECTIONS_CONSUMER, messageId: event.id },
      async (trx) => {
        const subscribed = subscribedBy('catalog', event);
        switch (subscribed.type) {
          case 'identity.member_joined':
          case 'identity.member_role_changed':
          case 'identity.member_removed':
            return applyMembershipEvent(trx, subscribed);
          case 'booking.availability_changed':
            return applyAvailabilityChanged(trx, subscribed);
          default:
            subscribed satisfies never;
        }
      },
    );
    if (!handled) logger.debug({ id: event.id }, 'duplicate message skipped');
  };
}
