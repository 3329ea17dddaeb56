import { type Role, type SealedBox, sealInviteLink } from '@happening/contracts';
import { withTransaction } from '@happening/db';
import { DomainError } from '@happening/service-kit';
import { sql } from 'kysely';
import type { Actor } from '../../shared/actor.ts';
import type { Db, Trx } from '../../shared/database.ts';
import { emitOrgEvents, lockOrganization } from '../../shared/org-events.ts';
import { type AuditEntry, appendAudit } from '../audit/audit.repository.ts';
import { lockAsMember, lockAsOrgAdmin, lockJoinsOf, notAllowed } from '../members/member.lock.ts';
import { findMembership, insertMembership, type Membership } from '../members/member.repository.ts';
import { lockInvitesTo } from './invite.lock.ts';
import {
  type Acceptor,
  decideAccept,
  decideRevoke,
  effectiveStatus,
  mayInvite,
  normalizeEmail,
} from './invite.policy.ts';
import {
  databaseNow,
  findInviteByHash,
  type Invite,
  insertInvite,
  lockInvite,
  markAccepted,
  markRevoked,
  pendingInvitesCreatedBy,
  pendingInvitesTo,
  recentInviteTimes,
} from './invite.repository.ts';
import { acceptUrl, hashInviteToken, newInviteToken } from './invite.token.ts';
import { recordExpiredInvites } from './invite-expiry.job.ts';
import {
  decideInviteQuotas,
  INVITE_QUOTA_WINDOW_MS,
  type InviteQuotaScope,
  inviteLimitReached,
} from './invite-quota.policy.ts';

export interface InviteSettings {
  publicAppUrl: string;
  ttlMs: number;
  /** Seals the accept link for notification: the token never reaches the outbox in clear. */
  links: SealedBox;
  /** Most invites one organization may create for one address in any 24 hours. */
  perAddressPerDay: number;
  /** Most invites one organization may create in any 24 hours. */
  perOrganizationPerDay: number;
  /**
   * Most invites all organizations together may have mailed to one address in any 24 hours; one
   * more is created all the same, unmailed.
   */
  perAddressPerDayAllOrganizations: number;
}

const inviteNotFound = () => new DomainError('INVITE_NOT_FOUND', 404, 'No such invite.');

/** 409: the organization's pending invite to the address was mailed; a new one could not be. */
const mailedInvitePending = () =>
  new DomainError(
    'MAILED_INVITE_PENDING',
    409,
    'This address holds a pending invite of this organization that was mailed, and no new one can be mailed to it today: the pending one is kept. Revoke it first to replace it with one that is not mailed.',
  );

/**
 * Invites an address to the organization. A pending invite to the same address is revoked
 * (the new one supersedes it, so "resend" is just inviting again); one past its expiry is
 * recorded as expired instead. The token is returned once. Each invite is mailed, so an
 * organization may invite one address, and anyone at all, only so often (429 `INVITE_LIMIT`);
 * once the address has been mailed as many invites as it may be by all organizations together,
 * the invite is created unmailed (`mailed: false`), for its orgAdmin to hand the token over.
 */
export async function createInvite(
  db: Db,
  actor: Actor,
  settings: InviteSettings,
  input: { organizationId: string; email: string; role: Role },
): Promise<{ invite: Invite; token: string }> {
  const email = normalizeEmail(input.email);
  return withTransaction(db, async (trx) => {
    const { caller, organization } = await lockAsMember(trx, input.organizationId, actor);
    if (!mayInvite(caller.role)) throw notAllowed();
    const existingMember = await trx
      .selectFrom('organization_users as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select('m.user_id')
      .where('m.organization_id', '=', input.organizationId)
      .where(sql<string>`lower(u.email)`, '=', email)
      .executeTakeFirst();
    if (existingMember !== undefined) {
      throw new DomainError('ALREADY_MEMBER', 409, 'This address already belongs to a member.');
    }
    // After the organization's lock: invites of other organizations to the address wait here.
    // A statement of its own: a statement reads what was committed when it began, so caps
    // counted in the one that waited would miss the invite of the creation it waited for.
    await lockInvitesTo(trx, email);
    // Read under the locks: the transaction's start (`now()`) came before the wait for them.
    const { now: lockedAt, mailed } = await enforceInviteQuotas(
      trx,
      settings,
      input.organizationId,
      email,
    );
    // One past its expiry has expired, swept or not: it is recorded as the sweep records it
    // (marking it also frees the address's one pending slot). Only a live one is superseded.
    await recordExpiredInvites(trx, {
      organizationId: input.organizationId,
      email,
      requestId: actor.requestId,
      asOf: lockedAt,
    });
    const superseded = await pendingInvitesTo(trx, input.organizationId, email);
    // Superseding would revoke the link the address was mailed, and the new one cannot be mailed
    // today: the invitee would hold nothing that works.
    if (!mailed && superseded.some((old) => old.mailed)) throw mailedInvitePending();
    for (const old of superseded) await markRevoked(trx, old.id, actor.userId);

    const token = newInviteToken();
    const invite = await insertInvite(trx, {
      organizationId: input.organizationId,
      email,
      role: input.role,
      tokenHash: hashInviteToken(token),
      invitedBy: actor.userId,
      expiresAt: new Date(lockedAt.getTime() + settings.ttlMs),
      mailed,
    });
    // Said only when unmailed: events and audit entries of mailed invites read as before.
    const unmailed = mailed ? {} : { mailed: false };
    await appendAudit(trx, [
      ...superseded.map(
        (old): AuditEntry => ({
          organizationId: input.organizationId,
          actorId: actor.userId,
          action: 'invite.revoked',
          entityType: 'invite',
          entityId: old.id,
          before: { status: 'pending' },
          after: { status: 'revoked', supersededBy: invite.id },
          requestId: actor.requestId,
        }),
      ),
      {
        organizationId: input.organizationId,
        actorId: actor.userId,
        action: 'invite.created',
        entityType: 'invite',
        entityId: invite.id,
        before: null,
        after: {
          email,
          role: input.role,
          expiresAt: invite.expiresAt.toISOString(),
          ...unmailed,
        },
        requestId: actor.requestId,
      },
    ]);
    const facts = {
      inviteId: invite.id,
      organizationId: input.organizationId,
      organizationName: organization.name,
      email,
      role: input.role,
      invitedBy: actor.userId,
      expiresAt: invite.expiresAt.toISOString(),
    };
    await emitOrgEvents(trx, input.organizationId, actor.requestId, [
      {
        type: 'identity.member_invited',
        data: {
          ...facts,
          ...unmailed,
          sealedAcceptUrl: sealInviteLink(
            settings.links,
            { ...facts, ...unmailed },
            acceptUrl(settings.publicAppUrl, token),
          ),
        },
      },
    ]);
    return { invite, token };
  });
}

/**
 * Refuses the invite when the organization has created as many as it may in the last 24 hours,
 * for this address or in all (revoked, expired, accepted and unmailed invites count: the caps
 * bound what one organization does). Otherwise says whether it is mailed: not once all
 * organizations together have had as many invites mailed to the address as it may be sent,
 * whatever became of them. Counted under the organization lock and the address's
 * (`lockInvitesTo`), which every invite creation holds until commit, so concurrent invites cannot
 * pass a cap together. Returns the time it counted at, read in the same statement under those
 * locks on the database's clock, which writes `created_at`.
 */
async function enforceInviteQuotas(
  trx: Trx,
  settings: InviteSettings,
  organizationId: string,
  email: string,
): Promise<{ now: Date; mailed: boolean }> {
  const limits: Record<InviteQuotaScope, number> = {
    address: settings.perAddressPerDay,
    organization: settings.perOrganizationPerDay,
    addressAllOrganizations: settings.perAddressPerDayAllOrganizations,
  };
  const { now, newest } = await recentInviteTimes(trx, {
    organizationId,
    email,
    windowMs: INVITE_QUOTA_WINDOW_MS,
    limits,
  });
  const decision = decideInviteQuotas(
    {
      address: { limit: limits.address, newest: newest.address },
      organization: { limit: limits.organization, newest: newest.organization },
      addressAllOrganizations: {
        limit: limits.addressAllOrganizations,
        newest: newest.addressAllOrganizations,
      },
    },
    now,
  );
  if (decision.kind === 'refused') throw inviteLimitReached(decision.refusal);
  return { now, mailed: decision.mailed };
}

/**
 * Revokes a pending invite; revoking twice is harmless, an accepted or expired one is 409. The
 * time is read once the locks are held, as accepting reads it: an invite that expired while the
 * revocation waited for the organization is expired, not revoked.
 */
export async function revokeInvite(
  db: Db,
  actor: Actor,
  organizationId: string,
  inviteId: string,
): Promise<void> {
  await withTransaction(db, async (trx) => {
    await lockAsOrgAdmin(trx, organizationId, actor);
    const invite = await lockInvite(trx, organizationId, inviteId);
    if (invite === undefined) throw inviteNotFound();
    const now = await databaseNow(trx);
    // An invite past its expiry is expired, whether or not the sweep has marked it yet.
    if (decideRevoke(effectiveStatus(invite.status, invite.expiresAt, now)) === 'noop') return;
    await recordRevocations(trx, actor, [invite]);
  });
}

/**
 * Revokes every invite `inviterId` created in the organization that is still pending, as
 * `revokeInvite` would, for a member who was removed, left or may no longer invite: their
 * invites must not let them (or anyone they chose) back in. Run it in the transaction that
 * changes the membership, under its organization lock.
 */
export async function revokeInvitesCreatedBy(
  trx: Trx,
  actor: Actor,
  organizationId: string,
  inviterId: string,
): Promise<void> {
  const invites = await pendingInvitesCreatedBy(trx, organizationId, inviterId);
  if (invites.length === 0) return;
  const now = await databaseNow(trx);
  // Invites past their expiry are already expired; the sweep records them as such.
  await recordRevocations(
    trx,
    actor,
    invites.filter((invite) => effectiveStatus(invite.status, invite.expiresAt, now) === 'pending'),
  );
}

/** Marks pending invites revoked by the actor and audits each as `invite.revoked`. */
async function recordRevocations(trx: Trx, actor: Actor, invites: readonly Invite[]) {
  for (const invite of invites) await markRevoked(trx, invite.id, actor.userId);
  await appendAudit(
    trx,
    invites.map((invite) => ({
      organizationId: invite.organizationId,
      actorId: actor.userId,
      action: 'invite.revoked',
      entityType: 'invite' as const,
      entityId: invite.id,
      before: { status: invite.status },
      after: { status: 'revoked' },
      requestId: actor.requestId,
    })),
  );
}

/**
 * Accepts an invite by its token for the caller. Locks the organization before the invite
 * (the order every invite and membership change takes) so concurrent accepts cannot deadlock,
 * then the caller's joins (see `lockJoinsOf`). The time is read once the locks are held: an
 * invite that expired while the accept waited for them is expired.
 */
export async function acceptInvite(
  db: Db,
  actor: Actor,
  caller: Omit<Acceptor, 'isMember' | 'userId'>,
  token: string,
): Promise<Membership> {
  const tokenHash = hashInviteToken(token);
  const found = await findInviteByHash(db, tokenHash);
  if (found === undefined) throw inviteNotFound();
  return withTransaction(db, async (trx) => {
    await lockOrganization(trx, found.organizationId);
    await lockJoinsOf(trx, actor.userId);
    const invite = (await findInviteByHash(trx, tokenHash, true))!;
    const current = await findMembership(trx, invite.organizationId, actor.userId);
    const decision = decideAccept(
      invite,
      { ...caller, userId: actor.userId, isMember: current !== undefined },
      await databaseNow(trx),
    );
    if (decision.kind === 'already-accepted') return current!;
    await markAccepted(trx, invite.id, actor.userId);
    const audit = {
      organizationId: invite.organizationId,
      actorId: actor.userId,
      entityType: 'invite' as const,
      entityId: invite.id,
      before: { status: invite.status },
      after: { status: 'accepted', acceptedBy: actor.userId },
      requestId: actor.requestId,
    };
    if (decision.kind === 'use-only') {
      await appendAudit(trx, [{ ...audit, action: 'invite.accepted' }]);
      return current!;
    }
    const membership = await insertMembership(trx, {
      organizationId: invite.organizationId,
      userId: actor.userId,
      role: invite.role,
    });
    await appendAudit(trx, [
      { ...audit, action: 'invite.accepted' },
      {
        organizationId: invite.organizationId,
        actorId: actor.userId,
        action: 'member.joined',
        entityType: 'membership',
        entityId: actor.userId,
        before: null,
        after: { role: invite.role, inviteId: invite.id },
        requestId: actor.requestId,
      },
    ]);
    await emitOrgEvents(trx, invite.organizationId, actor.requestId, [
      {
        type: 'identity.member_joined',
        data: {
          organizationId: invite.organizationId,
          userId: actor.userId,
          role: invite.role,
          inviteId: invite.id,
        },
      },
    ]);
    return membership;
  });
}
