import { describe, expect, it } from 'vitest';
import {
  checkInviteQuotas,
  decideInviteQuotas,
  INVITE_QUOTA_WINDOW_MS,
  inviteLimitReached,
} from './invite-quota.policy.ts';

const now = new Date('2025-06-01T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const HOUR = 3_600_000;

describe('checkInviteQuotas', () => {
  it('lets an invite through while every cap has room', () => {
    expect(checkInviteQuotas([], now)).toBeUndefined();
    expect(
      checkInviteQuotas(
        [
          { scope: 'address', limit: 3, newest: [ago(1), ago(2)] },
          { scope: 'organization', limit: 200, newest: [ago(1), ago(2)] },
        ],
        now,
      ),
    ).toBeUndefined();
  });

  it('refuses at the limit until the oldest counted invite leaves the window', () => {
    const newest = [ago(1 * HOUR), ago(2 * HOUR), ago(5 * HOUR)];
    expect(checkInviteQuotas([{ scope: 'address', limit: 3, newest }], now)).toEqual({
      scope: 'address',
      retryAfterSeconds: 19 * 3600,
    });
  });

  it('counts only invites inside the rolling window', () => {
    const newest = [ago(HOUR), ago(2 * HOUR), ago(INVITE_QUOTA_WINDOW_MS)];
    expect(checkInviteQuotas([{ scope: 'address', limit: 3, newest }], now)).toBeUndefined();
    const inside = [ago(HOUR), ago(2 * HOUR), ago(INVITE_QUOTA_WINDOW_MS - 1)];
    expect(checkInviteQuotas([{ scope: 'address', limit: 3, newest: inside }], now)).toEqual({
      scope: 'address',
      retryAfterSeconds: 1,
    });
  });

  it('waits for the limit-th newest when more than the limit are counted (a lowered limit)', () => {
    const newest = [ago(HOUR), ago(2 * HOUR), ago(3 * HOUR), ago(4 * HOUR)];
    expect(checkInviteQuotas([{ scope: 'address', limit: 2, newest }], now)).toEqual({
      scope: 'address',
      retryAfterSeconds: 22 * 3600,
    });
  });

  it('rounds the wait up to whole seconds', () => {
    const newest = [ago(INVITE_QUOTA_WINDOW_MS - 1500)];
    expect(checkInviteQuotas([{ scope: 'organization', limit: 1, newest }], now)).toEqual({
      scope: 'organization',
      retryAfterSeconds: 2,
    });
  });

  it('names the cap that keeps the invite waiting longest when both are full', () => {
    const quotas = [
      { scope: 'address' as const, limit: 1, newest: [ago(HOUR)] },
      { scope: 'organization' as const, limit: 2, newest: [ago(HOUR), ago(20 * HOUR)] },
    ];
    expect(checkInviteQuotas(quotas, now)).toEqual({
      scope: 'address',
      retryAfterSeconds: 23 * 3600,
    });
    expect(checkInviteQuotas([quotas[1]!], now)).toEqual({
      scope: 'organization',
      retryAfterSeconds: 4 * 3600,
    });
  });

  it('refuses on the cap over all organizations while the organization has room for the address', () => {
    const quotas = [
      { scope: 'address' as const, limit: 3, newest: [ago(HOUR)] },
      { scope: 'organization' as const, limit: 200, newest: [ago(HOUR)] },
      {
        scope: 'addressAllOrganizations' as const,
        limit: 3,
        newest: [ago(HOUR), ago(2 * HOUR), ago(6 * HOUR), ago(25 * HOUR)],
      },
    ];
    expect(checkInviteQuotas(quotas, now)).toEqual({
      scope: 'addressAllOrganizations',
      retryAfterSeconds: 18 * 3600,
    });
    // The organization's own full cap for the address waits longer: it is the one named.
    const ownFull = { ...quotas[0]!, limit: 1 };
    expect(checkInviteQuotas([ownFull, quotas[2]!], now)).toEqual({
      scope: 'address',
      retryAfterSeconds: 23 * 3600,
    });
  });
});

describe('decideInviteQuotas', () => {
  const roomy = { limit: 3, newest: [ago(HOUR)] };
  const full = { limit: 2, newest: [ago(HOUR), ago(5 * HOUR)] };

  it('creates and mails the invite while every cap has room', () => {
    const quotas = { address: roomy, organization: roomy, addressAllOrganizations: roomy };
    expect(decideInviteQuotas(quotas, now)).toEqual({ kind: 'created', mailed: true });
  });

  it('creates the invite unmailed when only the cap over all organizations is full', () => {
    const quotas = { address: roomy, organization: roomy, addressAllOrganizations: full };
    expect(decideInviteQuotas(quotas, now)).toEqual({ kind: 'created', mailed: false });
    // Mailed again once the cap's oldest mailed invite has left the window.
    const leaving = { limit: 2, newest: [ago(HOUR), ago(INVITE_QUOTA_WINDOW_MS)] };
    expect(decideInviteQuotas({ ...quotas, addressAllOrganizations: leaving }, now)).toEqual({
      kind: 'created',
      mailed: true,
    });
  });

  it("refuses on the organization's own caps, whatever the cap over all organizations", () => {
    for (const addressAllOrganizations of [roomy, full]) {
      expect(
        decideInviteQuotas({ address: full, organization: roomy, addressAllOrganizations }, now),
      ).toEqual({ kind: 'refused', refusal: { scope: 'address', retryAfterSeconds: 19 * 3600 } });
      expect(
        decideInviteQuotas({ address: roomy, organization: full, addressAllOrganizations }, now),
      ).toEqual({
        kind: 'refused',
        refusal: { scope: 'organization', retryAfterSeconds: 19 * 3600 },
      });
    }
  });
});

describe('inviteLimitReached', () => {
  it('is 429 INVITE_LIMIT carrying the wait', () => {
    const error = inviteLimitReached({ scope: 'address', retryAfterSeconds: 60 });
    expect(error).toMatchObject({
      code: 'INVITE_LIMIT',
      status: 429,
      extra: { retryAfterSeconds: 60 },
    });
  });

  it.each([
    ['address', 'This organization has invited this address as often as it may in 24 hours.'],
    ['organization', 'This organization has sent as many invites as it may in 24 hours.'],
  ] as const)('says which cap is full (%s)', (scope, detail) => {
    expect(inviteLimitReached({ scope, retryAfterSeconds: 1 }).detail).toBe(detail);
  });
});
