import type { DomainEvent } from '@happening/contracts';
import { projectMembership } from '@happening/db';
import type { Transaction } from 'kysely';
import type { BookingDb } from '../../db/database.ts';

type MemberEvent = Extract<
  DomainEvent,
  { type: 'identity.member_joined' | 'identity.member_role_changed' | 'identity.member_removed' }
>;

/**
 * Keeps the memberships projection in step with identity-org: replays and events older than the
 * one applied change nothing; a removed member stays as a tombstone (role NULL).
 */
export async function applyMemberEvent(
  trx: Transaction<BookingDb>,
  message: MemberEvent,
): Promise<void> {
  await projectMembership(trx, {
    organizationId: message.data.organizationId,
    userId: message.data.userId,
    role: message.type === 'identity.member_removed' ? null : message.data.role,
    version: message.aggregate.version,
  });
}
