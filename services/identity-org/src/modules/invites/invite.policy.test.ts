import { describe, expect, it } from 'vitest';
import {
  decideAccept,
  decideRevoke,
  effectiveStatus,
  type InviteState,
  mayInvite,
} from './invite.policy.ts';

const now = new Date('2025-06-01T12:00:00Z');
const later = new Date('2025-06-08T12:00:00Z');
const caller = { userId: 'u1', email: 'Ann@Example.test', emailVerified: true, isMember: false };
const pending: InviteState = {
  email: 'ann@example.test',
  status: 'pending',
  expiresAt: later,
  acceptedBy: null,
};

describe('decideAccept', () => {
  it('joins on a pending, unexpired invite to the caller (case-insensitive)', () => {
    expect(decideAccept(pending, caller, now)).toEqual({ kind: 'join' });
  });
  it('answers 403 for another address or an unverified one', () => {
    expect(() => decideAccept(pending, { ...caller, email: 'bob@example.test' }, now)).toThrow(
      expect.objectContaining({ status: 403, code: 'INVITE_EMAIL_MISMATCH' }),
    );
    expect(() => decideAccept(pending, { ...caller, emailVerified: false }, now)).toThrow(
      expect.objectContaining({ status: 403 }),
    );
  });
  it('checks the address before revealing the state', () => {
    const revoked = { ...pending, status: 'revoked' as const };
    expect(() => decideAccept(revoked, { ...caller, email: 'x@example.test' }, now)).toThrow(
      expect.objectContaining({ status: 403 }),
    );
  });
  it('answers 410 when expired, by status or by time', () => {
    expect(() => decideAccept({ ...pending, status: 'expired' }, caller, now)).toThrow(
      expect.objectContaining({ status: 410, code: 'INVITE_EXPIRED' }),
    );
    expect(() => decideAccept({ ...pending, expiresAt: now }, caller, now)).toThrow(
      expect.objectContaining({ status: 410 }),
    );
  });
  it('answers 409 when revoked', () => {
    expect(() => decideAccept({ ...pending, status: 'revoked' }, caller, now)).toThrow(
      expect.objectContaining({ status: 409, code: 'INVITE_REVOKED' }),
    );
  });
  it('uses the invite without a new membership for a caller who is already a member', () => {
    expect(decideAccept(pending, { ...caller, isMember: true }, now)).toEqual({ kind: 'use-only' });
  });
  it('is harmless for the member who accepted, 409 for anyone else or after leaving', () => {
    const accepted = { ...pending, status: 'accepted' as const, acceptedBy: 'u1' };
    const member = { ...caller, isMember: true };
    expect(decideAccept(accepted, member, now)).toEqual({ kind: 'already-accepted' });
    expect(() => decideAccept(accepted, caller, now)).toThrow(
      expect.objectContaining({ status: 409, code: 'INVITE_ALREADY_USED' }),
    );
    expect(() => decideAccept({ ...accepted, acceptedBy: 'u2' }, member, now)).toThrow(
      expect.objectContaining({ status: 409, code: 'INVITE_ALREADY_USED' }),
    );
  });
});

describe('decideRevoke', () => {
  it('revokes pending, ignores revoked, refuses the rest', () => {
    expect(decideRevoke('pending')).toBe('revoke');
    expect(decideRevoke('revoked')).toBe('noop');
    expect(() => decideRevoke('accepted')).toThrow(expect.objectContaining({ status: 409 }));
    expect(() => decideRevoke('expired')).toThrow(expect.objectContaining({ status: 409 }));
  });
});

describe('mayInvite', () => {
  it('lets orgAdmins invite and no other role', () => {
    expect(mayInvite('orgAdmin')).toBe(true);
    expect(mayInvite('organizer')).toBe(false);
    expect(mayInvite('user')).toBe(false);
  });
});

describe('effectiveStatus', () => {
  it('shows a pending invite past its expiry as expired', () => {
    expect(effectiveStatus('pending', now, later)).toBe('expired');
    expect(effectiveStatus('pending', later, now)).toBe('pending');
    expect(effectiveStatus('accepted', now, later)).toBe('accepted');
  });
});
