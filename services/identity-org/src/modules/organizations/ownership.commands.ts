import type { Actor } from '../../shared/actor.ts';
import type { Trx } from '../../shared/database.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { longestServingAdmin } from '../members/member.repository.ts';
import { setOwner } from './organization.repository.ts';

/**
 * When `userId` owns the organization and is leaving, removed or no longer orgAdmin, passes the
 * ownership to the remaining orgAdmin who has held the role longest and audits it as an
 * `organization.updated`. Otherwise a departed owner would keep the organization counted against
 * their `ORGANIZATIONS_PER_OWNER` for good. Run it under the organization lock, in the
 * transaction of the membership change, after the last-orgAdmin guard (which ensures a successor);
 * `ownerId` is the owner read when that lock was taken.
 */
export async function handOverOwnership(
  trx: Trx,
  actor: Actor,
  organizationId: string,
  ownerId: string,
  userId: string,
): Promise<void> {
  if (ownerId !== userId) return;
  const successor = await longestServingAdmin(trx, organizationId, userId);
  if (successor === undefined) {
    throw new Error(`organization ${organizationId} has no orgAdmin to take over its ownership`);
  }
  await setOwner(trx, organizationId, successor);
  await appendAudit(trx, [
    {
      organizationId,
      actorId: actor.userId,
      action: 'organization.updated',
      entityType: 'organization',
      entityId: organizationId,
      before: { ownerId },
      after: { ownerId: successor },
      requestId: actor.requestId,
    },
  ]);
}
