import { DomainError } from '@happening/service-kit';
import type { Actor } from '../../shared/actor.ts';
import { lockNameUntilCommit, type Trx } from '../../shared/database.ts';
import { type LockedOrganization, lockOrganization } from '../../shared/org-events.ts';
import { findMembership, type Membership } from './member.repository.ts';

// The guard's answer to a non-member: one removed while waiting for the lock gets the same.
const orgNotFound = () => new DomainError('ORGANIZATION_NOT_FOUND', 404, 'No such organization.');
export const notAllowed = () =>
  new DomainError('FORBIDDEN', 403, 'Your role in this organization does not allow this.');

/**
 * Locks the organization and re-reads the caller's membership under the lock, so a caller
 * demoted or removed a moment ago cannot act on the strength of the role they had (the route's
 * guard read it before the transaction).
 */
export async function lockAsMember(
  trx: Trx,
  organizationId: string,
  actor: Actor,
): Promise<{ caller: Membership; organization: LockedOrganization }> {
  const organization = await lockOrganization(trx, organizationId);
  if (!organization) throw orgNotFound();
  const caller = await findMembership(trx, organizationId, actor.userId);
  if (caller === undefined) throw orgNotFound();
  return { caller, organization };
}

/** `lockAsMember` for what only an orgAdmin may do. */
export async function lockAsOrgAdmin(
  trx: Trx,
  organizationId: string,
  actor: Actor,
): Promise<{ caller: Membership; organization: LockedOrganization }> {
  const locked = await lockAsMember(trx, organizationId, actor);
  if (locked.caller.role !== 'orgAdmin') throw notAllowed();
  return locked;
}

/**
 * Serialises the joins of one person (creating an organization, accepting an invite) until
 * commit. With the join time read after it (see `insertMembership`), the person's memberships
 * commit in the order `/v1/me/memberships` lists them, so none appears behind a reader's cursor.
 * It is also what keeps concurrent creations within `ORGANIZATIONS_PER_OWNER`. Take it after any
 * organization lock. The key is the one creations took before joins did, so that instances of
 * both versions agree during a deployment.
 */
export async function lockJoinsOf(trx: Trx, userId: string): Promise<void> {
  await lockNameUntilCommit(trx, `owner:${userId}`);
}
