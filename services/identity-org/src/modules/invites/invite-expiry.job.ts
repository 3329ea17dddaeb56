import { startRepeatingJob } from '@happening/service-kit';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db, Executor } from '../../shared/database.ts';

/** Narrows the sweep to one address's invites to one organization, as re-inviting it does. */
export interface ExpiryScope {
  organizationId: string;
  email: string;
  /** The request that found them expired, recorded in their audit rows. */
  requestId?: string;
}

/**
 * Marks every pending invite past its expiry (within `scope`, if given) as expired and audits
 * each, in one statement: replicas running the sweep at the same moment cannot expire (or audit)
 * an invite twice.
 */
export async function expirePendingInvites(db: Executor, scope?: ExpiryScope): Promise<number> {
  const within = scope
    ? sql`AND organization_id = ${scope.organizationId} AND lower(email) = ${scope.email.toLowerCase()}`
    : sql``;
  const result = await sql<{ count: string }>`
    WITH expired AS (
      UPDATE organization_invites SET status = 'expired'
      WHERE status = 'pending' AND expires_at < now() ${within}
      RETURNING id, organization_id, email, role
    ), audited AS (
      INSERT INTO audit_log
        (organization_id, actor_id, action, entity_type, entity_id, before, after, request_id)
      SELECT organization_id, NULL, 'invite.expired', 'invite', id::text,
             jsonb_build_object('status', 'pending'),
             jsonb_build_object('status', 'expired', 'email', email, 'role', role),
             ${scope?.requestId ?? null}::text
      FROM expired
      RETURNING 1
    )
    SELECT count(*) AS count FROM audited`.execute(db);
  return Number(result.rows[0]?.count ?? 0);
}

/** Runs the sweep now and every `intervalMs` until stopped; a failed sweep is logged and retried next time. */
export function startInviteExpiry(options: { db: Db; intervalMs: number; logger: Logger }): {
  stop(): Promise<void>;
} {
  return startRepeatingJob({
    intervalMs: options.intervalMs,
    runAtStart: true,
    run: async () => {
      const count = await expirePendingInvites(options.db);
      if (count > 0) options.logger.info({ count }, 'expired pending invites');
    },
    onError: (err) => options.logger.error({ err }, 'invite expiry sweep failed'),
  });
}
