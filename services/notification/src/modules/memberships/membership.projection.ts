import type { DomainEvent } from '@happening/contracts';
import { projectMembership } from '@happening/db';
import type { Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';

/** Keeps who holds which role in which organization, for the orgAdmin-only routes. */
export async function projectMemberships(
  trx: Transaction<NotificationDb>,
  event: DomainEvent,
): Promise<void> {
  switch (event.type) {
    case 'identity.member_joined':
    case 'identity.member_role_changed':
    case 'identity.member_removed':
      // Events older than the one applied change nothing; a removed member stays a tombstone.
      await projectMembership(trx, {
        organizationId: event.data.organizationId,
        userId: event.data.userId,
        role: event.type === 'identity.member_removed' ? null : event.data.role,
        version: event.aggregate.version,
      });
      return;
    default:
      return;
  }
}
