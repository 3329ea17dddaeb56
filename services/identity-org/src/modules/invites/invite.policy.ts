import type { Role } from '@happening/contracts';
import { DomainError } from '@happening/service-kit';
import type { InviteStatus } from '../../db.types.ts';

/** What the accept decision needs to know about an invite. */
export interface InviteState {
  email: string;
  status: InviteStatus;
  expiresAt: Date;
  acceptedBy: string | null;
}

/** The caller as far as accepting is concerned. */
export interface Acceptor {
  userId: string;
  email: string;
  emailVerified: boolean;
  /** Whether the caller is a member of the invite's organization right now. */
  isMember: boolean;
}

/**
 * `join`: create the membership and use the invite; `use-only`: the caller is already a member,
 * use the invite but keep the membership as it is; `already-accepted`: this caller accepted
 * before and is still a member, answer as before.
 */
export type AcceptDecision = { kind: 'join' } | { kind: 'use-only' } | { kind: 'already-accepted' };

/** Normalised form emails are compared and stored in. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Decides an accept. The address check comes first so that an invite's state is never revealed
 * to someone it was not sent to.
 */
export function decideAccept(invite: InviteState, caller: Acceptor, now: Date): AcceptDecision {
  if (normalizeEmail(invite.email) !== normalizeEmail(caller.email) || !caller.emailVerified) {
    throw new DomainError(
      'INVITE_EMAIL_MISMATCH',
      403,
      'This invite was sent to another address, or your address is not verified.',
    );
  }
  switch (invite.status) {
    case 'accepted':
      if (invite.acceptedBy === caller.userId && caller.isMember) {
        return { kind: 'already-accepted' };
      }
      throw new DomainError('INVITE_ALREADY_USED', 409, 'This invite has already been used.');
    case 'revoked':
      throw new DomainError('INVITE_REVOKED', 409, 'This invite has been revoked.');
    case 'expired':
      throw inviteExpired();
    case 'pending':
      if (invite.expiresAt.getTime() <= now.getTime()) throw inviteExpired();
      return caller.isMember ? { kind: 'use-only' } : { kind: 'join' };
    default: {
      const unreachable: never = invite.status;
      throw new Error(`unknown invite status ${String(unreachable)}`);
    }
  }
}

/**
 * Whether a member with this role may create invites: only orgAdmins may (`createInvite` takes
 * the caller as orgAdmin). A member who loses this loses their pending invites with it.
 */
export function mayInvite(role: Role): boolean {
  return role === 'orgAdmin';
}

/** Revoking is idempotent; only a pending invite can be revoked. */
export function decideRevoke(status: InviteStatus): 'revoke' | 'noop' {
  if (status === 'pending') return 'revoke';
  if (status === 'revoked') return 'noop';
  throw new DomainError('INVITE_NOT_PENDING', 409, `This invite is already ${status}.`);
}

/** An invite's status as a reader should see it: a pending invite past its expiry is expired. */
export function effectiveStatus(status: InviteStatus, expiresAt: Date, now: Date): InviteStatus {
  return status === 'pending' && expiresAt.getTime() <= now.getTime() ? 'expired' : status;
}

function inviteExpired() {
  return new DomainError('INVITE_EXPIRED', 410, 'This invite has expired.');
}
