import type { DomainEvent } from '@happening/contracts';
import { handleOnce } from '@happening/db';
import type { Kysely } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import { projectEventHolders } from '../event-holders/event-holder.projection.ts';
import { projectMemberships } from '../memberships/membership.projection.ts';
import { planNotification } from '../notifications/notification.planner.ts';
import {
  type NotificationWriterDeps,
  writeNotifications,
} from '../notifications/notification.writer.ts';
import { projectRecipients } from '../recipients/recipient.projection.ts';

/** Routing keys of the domain events this service consumes. */
export const CONSUMED_EVENTS = [
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
] as const;

export const INBOX_CONSUMER = 'notification';

/**
 * Handles one domain event exactly once: projections first (a booking's holder row exists before
 * an update fans out), then the notifications it calls for, all in the inbox transaction.
 */
export function domainEventHandler(db: Kysely<NotificationDb>, deps: NotificationWriterDeps) {
  return async (event: DomainEvent): Promise<void> => {
    await handleOnce(db, { consumer: INBOX_CONSUMER, messageId: event.id }, async (trx) => {
      await projectRecipients(trx, event);
      await projectMemberships(trx, event);
      await projectEventHolders(trx, event);
      const plan = planNotification(event);
      if (plan) await writeNotifications(trx, deps, event, plan);
    });
  };
}
