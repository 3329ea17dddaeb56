import type { DomainEvent } from '@happening/contracts';
import { handleOnce } from '@happening/db';
import { type NotSubscribedBy, notSubscribed } from '@happening/messaging';
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
        switch (event.type) {
          case 'identity.member_joined':
          case 'identity.member_role_changed':
          case 'identity.member_removed':
            return applyMembershipEvent(trx, event);
          case 'booking.availability_changed':
            return applyAvailabilityChanged(trx, event);
          default:
            throw notSubscribed(event.type satisfies NotSubscribedBy<'catalog'>, 'catalog');
        }
      },
    );
    if (!handled) logger.debug({ id: event.id }, 'duplicate message skipped');
  };
}
