import type { DomainEvent } from '@happening/contracts';
import type { Transaction } from 'kysely';
import type { BookingDb } from '../../db/database.ts';

type MemberEvent = Extract<
  DomainEvent,
  { type: 'identity.member_joined' | 'identity.member_role_changed' | 'identity.member_removed' }
>;

/** Keeps the memberships projection in step with identity-org; replays change nothing. */
export async function applyMemberEvent(
  trx: Transaction<BookingDb>,
  message: MemberEvent,
): Promise<void> {
  const { organizationId, userId } = message.data;
  if (message.type === 'identity.member_removed') {
    await trx
      .deleteFrom('memberships')
      .where('organization_id', '=', organizationId)
      .where('user_id', '=', userId)
      .execute();
    return;
  }
  await trx
    .insertInto('memberships')
    .values({ organization_id: organizationId, user_id: userId, role: message.data.role })
    .onConflict((oc) =>
      oc.columns(['organization_id', 'user_id']).doUpdateSet({ role: message.data.role }),
    )
    .execute();
}
