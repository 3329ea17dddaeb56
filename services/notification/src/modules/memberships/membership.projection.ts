import type { DomainEvent } from '@happening/contracts';
import type { Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import { deleteMembership, upsertMembership } from './membership.repository.ts';

/** Keeps who holds which role in which organization, for the orgAdmin-only routes. */
export async function projectMemberships(
  trx: Transaction<NotificationDb>,
  event: DomainEvent,
): Promise<void> {
  switch (event.type) {
    case 'identity.member_joined':
    case 'identity.member_role_changed':
      await upsertMembership(trx, event.data);
      return;
    case 'identity.member_removed':
      await deleteMembership(trx, event.data);
      return;
    default:
      return;
  }
}
