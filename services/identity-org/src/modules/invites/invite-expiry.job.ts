import { withTransaction } from '@happening/db';
import { startRepeatingJob } from '@happening/service-kit';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db, Trx } from '../../shared/database.ts';
import { lockOrganization } from '../../shared/org-events.ts';

/** The pending invites past their expiry of one organization, or of one address there. */
export interface ExpiryScope {
  organizationId: string;
  email?: string;
  /** The request that found them expired, recorded in their audit rows. */
  requestId?: string;
  /**
   * The time they are expired at: a request passes the time it read under the organization lock
   * (`now()`, the default, is its transaction's start, before it waited for the lock, so an
   * invite that lapsed during the wait would be left pending and superseded).
   */
  asOf?: Date;
}

/**
 * Marks the pending invites past their expiry within `scope` as expired and audits each, in one
 * statement: sweeps running at the same moment cannot expire (or audit) an invite twice. Run it
 * under the organization lock, which orders its audit rows among the organization's others.
 */
export async function recordExpiredInvites(trx: Trx, scope: ExpiryScope): Promise<number> {
  const toAddress =
    scope.email === undefined ? sql`` : sql`AND lower(email) = ${scope.email.toLowerCase()}`;
  const asOf = scope.asOf === undefined ? sql`now()` : sql`${scope.asOf}::timestamptz`;
  const result = await sql<{ count: string }>`
    WITH expired AS (
      UPDATE organization_invites SET status = 'expired'
      WHERE status = 'pending' AND expires_at <= ${asOf}
        AND organization_id = ${scope.organizationId} ${toAddress}
      RETURNING id, organization_id, email, role
    ), audited AS (
      INSERT INTO audit_log
        (organization_id, actor_id, action, entity_type, entity_id, before, after, request_id)
      SELECT organization_id, NULL, 'invite.expired', 'invite', id::text,
             jsonb_build_object('status', 'pending'),
             jsonb_build_object('status', 'expired', 'email', email, 'role', role),
             ${scope.requestId ?? null}::text
      FROM expired
      RETURNING 1
    )
    SELECT count(*) AS count FROM audited`.execute(trx);
  return Number(result.rows[0]?.count ?? 0);
}

/** Longest the sweep waits for one organization's lock before leaving it to the next sweep. */
const SWEEP_LOCK_TIMEOUT_MS = 10_000;
/** SQLSTATE of a lock wait that ran past `lock_timeout`. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * The sweep: expires every pending invite past its expiry, one organization at a time, each in
 * its own transaction under the organization lock, taken before the invites as every request
 * takes it. Without the lock, an audit row would take its id (the audit trail's keyset) before a
 * request's and commit after it, behind a client that had already paged past that place. An
 * organization whose lock stays held past `lockTimeoutMs`, or whose transaction fails, is logged
 * and left to the next sweep: the others are not held back by it.
 */
export async function expirePendingInvites(
  db: Db,
  options: { lockTimeoutMs?: number; logger?: Logger } = {},
): Promise<number> {
  const lockTimeout = `${options.lockTimeoutMs ?? SWEEP_LOCK_TIMEOUT_MS}ms`;
  const organizations = await db
    .selectFrom('organization_invites')
    .select('organization_id')
    .distinct()
    .where('status', '=', 'pending')
    .where('expires_at', '<=', sql<Date>`now()`)
    .orderBy('organization_id')
    .execute();
  let count = 0;
  for (const { organization_id: organizationId } of organizations) {
    try {
      count += await withTransaction(db, async (trx) => {
        await sql`SELECT set_config('lock_timeout', ${lockTimeout}, true)`.execute(trx);
        if ((await lockOrganization(trx, organizationId)) === undefined) return 0;
        return recordExpiredInvites(trx, { organizationId });
      });
    } catch (err) {
      // A lock held too long is routine; anything else is a fault to look at, though the sweep
      // still goes on with the other organizations.
      const routine = (err as { code?: string }).code === LOCK_NOT_AVAILABLE;
      options.logger?.[routine ? 'warn' : 'error'](
        { err, organizationId },
        "an organization's lapsed invites are left to the next sweep",
      );
    }
  }
  return count;
}

/** Runs the sweep now and every `intervalMs` until stopped; a failed sweep is logged and retried next time. */
export function startInviteExpiry(options: { db: Db; intervalMs: number; logger: Logger }): {
  stop(): Promise<void>;
} {
  return startRepeatingJob({
    intervalMs: options.intervalMs,
    runAtStart: true,
    run: async () => {
      const count = await expirePendingInvites(options.db, { logger: options.logger });
      if (count > 0) options.logger.info({ count }, 'expired pending invites');
    },
    onError: (err) => options.logger.error({ err }, 'invite expiry sweep failed'),
  });
}
