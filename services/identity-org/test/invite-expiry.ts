import { expect } from 'vitest';
import type { Harness, TestUser } from './harness.ts';

/**
 * Checks that a re-invite recorded the old invite as the sweep does: `expired`, not revoked, and
 * audited `invite.expired` with no actor and the re-invite's request id.
 */
export async function expectExpiredOnReinvite(
  h: Harness,
  admin: TestUser,
  orgId: string,
  old: { id: string; email: string; role: string },
  requestId: unknown,
): Promise<void> {
  const row = await h.db
    .selectFrom('organization_invites')
    .select(['status', 'revoked_by', 'revoked_at'])
    .where('id', '=', old.id)
    .executeTakeFirstOrThrow();
  expect(row).toEqual({ status: 'expired', revoked_by: null, revoked_at: null });
  const audit = await h.auditOf(admin, orgId);
  const aboutOld = audit.filter((a) => a.entityId === old.id);
  expect(aboutOld.map((a) => a.action)).toEqual(['invite.expired', 'invite.created']);
  expect(aboutOld[0]).toMatchObject({
    actorId: null,
    before: { status: 'pending' },
    after: { status: 'expired', email: old.email, role: old.role },
    requestId,
  });
}
