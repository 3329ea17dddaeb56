import type { Role } from '@happening/contracts';
import { sql } from 'kysely';
import type { InviteStatus } from '../../db.types.ts';
import type { Executor } from '../../shared/database.ts';
import type { InviteQuotaScope } from './invite-quota.policy.ts';

export interface Invite {
  id: string;
  organizationId: string;
  email: string;
  role: Role;
  status: InviteStatus;
  invitedBy: string;
  expiresAt: Date;
  acceptedBy: string | null;
  acceptedAt: Date | null;
  /** False when the cap over all organizations was full: no email announces it. */
  mailed: boolean;
  createdAt: Date;
  /** Keyset position with the database's full timestamp precision. */
  position: { createdAt: string; id: string };
}

const COLUMNS = [
  'id',
  'organization_id',
  'email',
  'role',
  'status',
  'invited_by',
  'expires_at',
  'accepted_by',
  'accepted_at',
  'mailed',
  'created_at',
] as const;

type InviteRow = {
  id: string;
  organization_id: string;
  email: string;
  role: Role;
  status: InviteStatus;
  invited_by: string;
  expires_at: Date;
  accepted_by: string | null;
  accepted_at: Date | null;
  mailed: boolean;
  created_at: Date;
  created_at_text: string;
};

const toInvite = (row: InviteRow): Invite => ({
  id: row.id,
  organizationId: row.organization_id,
  email: row.email,
  role: row.role,
  status: row.status,
  invitedBy: row.invited_by,
  expiresAt: row.expires_at,
  acceptedBy: row.accepted_by,
  acceptedAt: row.accepted_at,
  mailed: row.mailed,
  createdAt: row.created_at,
  position: { createdAt: row.created_at_text, id: row.id },
});

const createdAtText = sql<string>`created_at::text`.as('created_at_text');

export async function insertInvite(
  db: Executor,
  values: {
    organizationId: string;
    email: string;
    role: Role;
    tokenHash: string;
    invitedBy: string;
    expiresAt: Date;
    mailed: boolean;
  },
): Promise<Invite> {
  const row = await db
    .insertInto('organization_invites')
    .values({
      organization_id: values.organizationId,
      email: values.email,
      role: values.role,
      token_hash: values.tokenHash,
      invited_by: values.invitedBy,
      expires_at: values.expiresAt,
      accepted_by: null,
      accepted_at: null,
      revoked_by: null,
      revoked_at: null,
      mailed: values.mailed,
      // The clock under the organization lock, not the transaction's start (the column's
      // default): invites of one organization commit in the order of this time, which the
      // invite list pages by, so none appears behind a reader's cursor.
      created_at: sql<Date>`clock_timestamp()`,
    })
    .returning([...COLUMNS, createdAtText])
    .executeTakeFirstOrThrow();
  return toInvite(row);
}

/** The invite behind a token hash, row-locked when `lock` is set. */
export async function findInviteByHash(
  db: Executor,
  tokenHash: string,
  lock = false,
): Promise<Invite | undefined> {
  let query = db
    .selectFrom('organization_invites')
    .select([...COLUMNS, createdAtText])
    .where('token_hash', '=', tokenHash);
  if (lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && toInvite(row);
}

/** An invite of one organization (never another's), row-locked. */
export async function lockInvite(
  db: Executor,
  organizationId: string,
  id: string,
): Promise<Invite | undefined> {
  const row = await db
    .selectFrom('organization_invites')
    .select([...COLUMNS, createdAtText])
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && toInvite(row);
}

/**
 * Invites of the organization to this address with status pending (at most one, by the partial
 * index), row-locked; one past its expiry may be among them, not yet swept.
 */
export async function pendingInvitesTo(
  db: Executor,
  organizationId: string,
  email: string,
): Promise<Invite[]> {
  const rows = await db
    .selectFrom('organization_invites')
    .select([...COLUMNS, createdAtText])
    .where('organization_id', '=', organizationId)
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .where('status', '=', 'pending')
    .forUpdate()
    .execute();
  return rows.map(toInvite);
}

/** Pending invites of the organization created by `invitedBy`, row-locked. */
export async function pendingInvitesCreatedBy(
  db: Executor,
  organizationId: string,
  invitedBy: string,
): Promise<Invite[]> {
  const rows = await db
    .selectFrom('organization_invites')
    .select([...COLUMNS, createdAtText])
    .where('organization_id', '=', organizationId)
    .where('invited_by', '=', invitedBy)
    .where('status', '=', 'pending')
    .forUpdate()
    .execute();
  return rows.map(toInvite);
}

/** What the invite caps count, read under the locks of `createInvite`. */
export interface RecentInvites {
  /** The database's clock as the statement ran, which writes `created_at`. */
  now: Date;
  /**
   * Per cap, the creation times of its newest invites in the window, newest first: for
   * `addressAllOrganizations`, of the mailed ones only.
   */
  newest: Record<InviteQuotaScope, Date[]>;
}

/**
 * The database's clock and, per invite cap, the creation times of the newest invites of the
 * `windowMs` before it, newest first, at most that cap's `limit`: the organization's invites to
 * `email` (`address`), all of the organization's (`organization`), whatever their status or
 * whether they were mailed; every organization's mailed invites to `email`
 * (`addressAllOrganizations`), whatever their status, since that cap bounds the emails. One
 * statement, so that the caller holds its locks one round trip for all of it; the clock is read
 * once (a CTE with a volatile function is evaluated once), so every cap counts from the same
 * moment. The page index (organization, created_at) bounds the organization's reads, the address
 * index (lower(email), created_at) of mailed invites the address's: `AND mailed` is what lets the
 * partial index serve it, and the unmailed invites, however many, are never read. `email` is normalised (`normalizeEmail`).
 */
export async function recentInviteTimes(
  db: Executor,
  scope: {
    organizationId: string;
    email: string;
    windowMs: number;
    limits: Readonly<Record<InviteQuotaScope, number>>;
  },
): Promise<RecentInvites> {
  const { organizationId, email, limits } = scope;
  const since = sql`clock.now - make_interval(secs => ${scope.windowMs / 1000})`;
  const { rows } = await sql<{ now: Date } & Record<InviteQuotaScope, Date[]>>`
    WITH clock AS (SELECT clock_timestamp() AS now)
    SELECT clock.now,
      ARRAY(SELECT created_at FROM organization_invites
            WHERE organization_id = ${organizationId} AND lower(email) = ${email}
              AND created_at > ${since}
            ORDER BY created_at DESC LIMIT ${limits.address}) AS address,
      ARRAY(SELECT created_at FROM organization_invites
            WHERE organization_id = ${organizationId} AND created_at > ${since}
            ORDER BY created_at DESC LIMIT ${limits.organization}) AS organization,
      ARRAY(SELECT created_at FROM organization_invites
            WHERE lower(email) = ${email} AND mailed AND created_at > ${since}
            ORDER BY created_at DESC LIMIT ${limits.addressAllOrganizations})
        AS "addressAllOrganizations"
    FROM clock`.execute(db);
  const { now, ...newest } = rows[0]!;
  return { now, newest };
}

/**
 * The database's clock: the one clock invites are dated and judged on. It must write `created_at`
 * (under the organization lock, for the list's order and the caps), and the sweep expires by it;
 * so `expires_at` is written, and expiry judged, on it too: every replica shares it, so a
 * re-invite, a revocation, an accept, the sweep and the invite list agree on whether an invite
 * has expired, whatever the clock of the replica serving each.
 */
export async function databaseNow(db: Executor): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(db);
  return rows[0]!.now;
}

// Revoked and accepted on the clock that dated the invite (`databaseNow`), so never before it.
export async function markRevoked(db: Executor, id: string, by: string): Promise<void> {
  await db
    .updateTable('organization_invites')
    .set({ status: 'revoked', revoked_by: by, revoked_at: sql<Date>`clock_timestamp()` })
    .where('id', '=', id)
    .execute();
}

export async function markAccepted(db: Executor, id: string, by: string): Promise<void> {
  await db
    .updateTable('organization_invites')
    .set({ status: 'accepted', accepted_by: by, accepted_at: sql<Date>`clock_timestamp()` })
    .where('id', '=', id)
    .execute();
}

/** One invite of an organization, or undefined (another organization's is none of its own). */
export async function findInvite(
  db: Executor,
  organizationId: string,
  inviteId: string,
): Promise<Invite | undefined> {
  const row = await db
    .selectFrom('organization_invites')
    .select([...COLUMNS, createdAtText])
    .where('organization_id', '=', organizationId)
    .where('id', '=', inviteId)
    .executeTakeFirst();
  return row === undefined ? undefined : toInvite(row);
}

/** Newest first; `before` is the previous page's last position. */
export async function listInvites(
  db: Executor,
  organizationId: string,
  limit: number,
  before: { createdAt: string; id: string } | undefined,
): Promise<Invite[]> {
  let query = db
    .selectFrom('organization_invites')
    .select([...COLUMNS, createdAtText])
    .where('organization_id', '=', organizationId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit);
  if (before !== undefined) {
    const at = sql<Date>`${before.createdAt}::timestamptz`;
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '<', at),
        eb.and([eb('created_at', '=', at), eb('id', '<', before.id)]),
      ]),
    );
  }
  return (await query.execute()).map(toInvite);
}
