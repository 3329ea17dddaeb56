import { DomainError } from '@happening/service-kit';

/** The rolling window the invite caps count in: any 24 hours. */
export const INVITE_QUOTA_WINDOW_MS = 24 * 3_600_000;

/**
 * What a cap counts: the organization's invites to one address, all of the organization's, or
 * every organization's invites to one address.
 */
export type InviteQuotaScope = 'address' | 'organization' | 'addressAllOrganizations';

/** One cap: at most `limit` invites in the window. */
export interface InviteQuota {
  scope: InviteQuotaScope;
  limit: number;
  /** Creation times of the newest invites it counts, newest first; at most `limit` are needed. */
  newest: readonly Date[];
}

/** A full cap, and the whole seconds until every cap has room again. */
export interface InviteQuotaRefusal {
  scope: InviteQuotaScope;
  retryAfterSeconds: number;
}

/**
 * Whether one more invite fits every cap: undefined when it does, otherwise the cap that keeps it
 * waiting longest. A full cap has room again once its `limit`-th newest invite leaves the window
 * (the oldest of them when it holds exactly `limit`, as it does unless the limit was lowered).
 */
export function checkInviteQuotas(
  quotas: readonly InviteQuota[],
  now: Date,
): InviteQuotaRefusal | undefined {
  let refusal: { scope: InviteQuotaScope; waitMs: number } | undefined;
  for (const { scope, limit, newest } of quotas) {
    const inWindow = newest.filter((at) => now.getTime() - at.getTime() < INVITE_QUOTA_WINDOW_MS);
    const last = inWindow[limit - 1];
    if (last === undefined) continue;
    const waitMs = last.getTime() + INVITE_QUOTA_WINDOW_MS - now.getTime();
    if (refusal === undefined || waitMs > refusal.waitMs) refusal = { scope, waitMs };
  }
  if (refusal === undefined) return undefined;
  // Rounded up: a client retrying after Retry-After must not come a moment too early.
  return { scope: refusal.scope, retryAfterSeconds: Math.max(1, Math.ceil(refusal.waitMs / 1000)) };
}

const DETAIL: Readonly<Record<InviteQuotaScope, string>> = {
  address: 'This organization has invited this address as often as it may in 24 hours.',
  organization: 'This organization has sent as many invites as it may in 24 hours.',
  addressAllOrganizations: 'This address has been sent as many invites as it may in 24 hours.',
};

/** 429 `INVITE_LIMIT`; its `retryAfterSeconds` is also the answer's `Retry-After`. */
export function inviteLimitReached(refusal: InviteQuotaRefusal): DomainError {
  return new DomainError('INVITE_LIMIT', 429, DETAIL[refusal.scope], {
    retryAfterSeconds: refusal.retryAfterSeconds,
  });
}
