import { DomainError } from '@happening/service-kit';

/** The rolling window the invite caps count in: any 24 hours. */
export const INVITE_QUOTA_WINDOW_MS = 24 * 3_600_000;

/**
 * What a cap counts: the organization's invites to one address, all of the organization's, or
 * every organization's mailed invites to one address.
 */
export type InviteQuotaScope = 'address' | 'organization' | 'addressAllOrganizations';

/**
 * The caps an invite must fit, or be refused: the organization's own. The cap over all
 * organizations bounds the emails an address receives, not the invites: were it to refuse, one
 * organization could spend it and keep every other from inviting the address.
 */
export type OrganizationQuotaScope = Exclude<InviteQuotaScope, 'addressAllOrganizations'>;

/** One cap: at most `limit` invites in the window. */
export interface InviteQuota<S extends InviteQuotaScope = InviteQuotaScope> {
  scope: S;
  limit: number;
  /** Creation times of the newest invites it counts, newest first; at most `limit` are needed. */
  newest: readonly Date[];
}

/** A full cap, and the whole seconds until every cap has room again. */
export interface InviteQuotaRefusal<S extends InviteQuotaScope = InviteQuotaScope> {
  scope: S;
  retryAfterSeconds: number;
}

/** What becomes of one more invite: refused (429), or created, mailed or not. */
export type InviteQuotaDecision =
  | { kind: 'refused'; refusal: InviteQuotaRefusal<OrganizationQuotaScope> }
  | { kind: 'created'; mailed: boolean };

/**
 * Refuses the invite while one of the organization's own caps is full; otherwise it is created,
 * and mailed only while the address has room among the emails all organizations sent it.
 */
export function decideInviteQuotas(
  quotas: { [S in InviteQuotaScope]: Omit<InviteQuota<S>, 'scope'> },
  now: Date,
): InviteQuotaDecision {
  const refusal = checkInviteQuotas(
    [
      { scope: 'address', ...quotas.address },
      { scope: 'organization', ...quotas.organization },
    ],
    now,
  );
  if (refusal !== undefined) return { kind: 'refused', refusal };
  const mailFull = checkInviteQuotas(
    [{ scope: 'addressAllOrganizations', ...quotas.addressAllOrganizations }],
    now,
  );
  return { kind: 'created', mailed: mailFull === undefined };
}

/**
 * Whether one more invite fits every cap: undefined when it does, otherwise the cap that keeps it
 * waiting longest. A full cap has room again once its `limit`-th newest invite leaves the window
 * (the oldest of them when it holds exactly `limit`, as it does unless the limit was lowered).
 */
export function checkInviteQuotas<S extends InviteQuotaScope>(
  quotas: readonly InviteQuota<S>[],
  now: Date,
): InviteQuotaRefusal<S> | undefined {
  let refusal: { scope: S; waitMs: number } | undefined;
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

const DETAIL: Readonly<Record<OrganizationQuotaScope, string>> = {
  address: 'This organization has invited this address as often as it may in 24 hours.',
  organization: 'This organization has sent as many invites as it may in 24 hours.',
};

/** 429 `INVITE_LIMIT`; its `retryAfterSeconds` is also the answer's `Retry-After`. */
export function inviteLimitReached(
  refusal: InviteQuotaRefusal<OrganizationQuotaScope>,
): DomainError {
  return new DomainError('INVITE_LIMIT', 429, DETAIL[refusal.scope], {
    retryAfterSeconds: refusal.retryAfterSeconds,
  });
}
