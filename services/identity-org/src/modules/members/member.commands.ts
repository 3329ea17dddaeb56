import type { Role } from '@happening/contracts';
import { withTransaction } from '@happening/db';
import { assertVersion, DomainError, type ExpectedVersion } from '@happening/service-kit';
import type { Actor } from '../../shared/actor.ts';
import type { Db } from '../../shared/database.ts';
import { emitOrgEvents } from '../../shared/org-events.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { revokeInvitesCreatedBy } from '../invites/invite.commands.ts';
import { mayInvite } from '../invites/invite.policy.ts';
import { handOverOwnership } from '../organizations/ownership.commands.ts';
import { lockAsMember, lockAsOrgAdmin, notAllowed } from './member.lock.ts';
import {
  countAdmins,
  deleteMembership,
  findMembership,
  type Membership,
  updateMemberRole,
} from './member.repository.ts';
import { assertKeepsAnAdmin, mayRemoveMember } from './membership.policy.ts';

const memberNotFound = () => new DomainError('MEMBER_NOT_FOUND', 404, 'No such member.');
/**
 * Changes a member's role (orgAdmin only); the organization never loses its last orgAdmin, and an
 * owner who stops being orgAdmin hands the ownership over.
 */
export async function changeMemberRole(
  db: Db,
  actor: Actor,
  organizationId: string,
  userId: string,
  expectedVersion: ExpectedVersion,
  role: Role,
): Promise<Membership> {
  return withTransaction(db, async (trx) => {
    const { organization } = await lockAsOrgAdmin(trx, organizationId, actor);
    const target = await findMembership(trx, organizationId, userId);
    if (target === undefined) throw memberNotFound();
    // Read under the organization lock, so no other role change lands between check and write.
    assertVersion('membership', target.version, expectedVersion);
    if (target.role === role) return target;
    assertKeepsAnAdmin(target.role, role, await countAdmins(trx, organizationId));
    const updated = await updateMemberRole(trx, organizationId, userId, role);
    await appendAudit(trx, [
      {
        organizationId,
        actorId: actor.userId,
        action: 'member.role_changed',
        entityType: 'membership',
        entityId: userId,
        before: { role: target.role },
        after: { role },
        requestId: actor.requestId,
      },
    ]);
    // An owner who is no longer orgAdmin hands the organization over, as one who leaves does.
    if (role !== 'orgAdmin') {
      await handOverOwnership(trx, actor, organizationId, organization.ownerId, userId);
    }
    // Invites the member created must not outlive their right to invite.
    if (!mayInvite(role)) await revokeInvitesCreatedBy(trx, actor, organizationId, userId);
    await emitOrgEvents(trx, organizationId, actor.requestId, [
      {
        type: 'identity.member_role_changed',
        data: { organizationId, userId, previousRole: target.role, role, changedBy: actor.userId },
      },
    ]);
    return updated;
  });
}

/**
 * Removes a member (orgAdmin, or the member themself); never the last orgAdmin. An owner who
 * leaves or is removed hands the ownership over.
 */
export async function removeMember(
  db: Db,
  actor: Actor,
  organizationId: string,
  userId: string,
): Promise<void> {
  await withTransaction(db, async (trx) => {
    const { caller, organization } = await lockAsMember(trx, organizationId, actor);
    if (!mayRemoveMember(actor.userId, caller.role, userId)) throw notAllowed();
    const target = await findMembership(trx, organizationId, userId);
    if (target === undefined) throw memberNotFound();
    assertKeepsAnAdmin(target.role, 'removed', await countAdmins(trx, organizationId));
    await deleteMembership(trx, organizationId, userId);
    await appendAudit(trx, [
      {
        organizationId,
        actorId: actor.userId,
        action: 'member.removed',
        entityType: 'membership',
        entityId: userId,
        before: { role: target.role },
        after: null,
        requestId: actor.requestId,
      },
    ]);
    await handOverOwnership(trx, actor, organizationId, organization.ownerId, userId);
    // A member who is gone may not bring anyone in, themself under another address included.
    await revokeInvitesCreatedBy(trx, actor, organizationId, userId);
    await emitOrgEvents(trx, organizationId, actor.requestId, [
      {
        type: 'identity.member_removed',
        data: { organizationId, userId, role: target.role, removedBy: actor.userId },
      },
    ]);
  });
}
