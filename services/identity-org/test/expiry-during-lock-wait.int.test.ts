import { randomUUID } from 'node:crypto';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trx } from '../src/shared/database.ts';
import { type Harness, startHarness, type TestUser } from './harness.ts';
import { expectExpiredOnReinvite } from './invite-expiry.ts';
import { holdingOrganization, lockWaiters } from './locks.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** Makes the invite expire now, in the transaction holding the lock, and waits until it has. */
async function expireNow(trx: Trx, inviteId: string): Promise<void> {
  const { rows } = await sql<{ expires: Date }>`
    UPDATE organization_invites SET expires_at = clock_timestamp()
    WHERE id = ${inviteId} RETURNING expires_at AS expires`.execute(trx);
  const expires = rows[0]!.expires.getTime();
  await eventually(() => Date.now() > expires);
}

async function invite(admin: TestUser, orgId: string, email: string, role = 'user') {
  const res = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, { email, role });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; token: string };
}

const address = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;

async function inviteRow(id: string) {
  return h.db
    .selectFrom('organization_invites')
    .select(['status', 'revoked_by', 'revoked_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

describe('revoking an invite that expires while the revocation waits for the organization', () => {
  it('answers 409 INVITE_NOT_PENDING and neither revokes nor audits it', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const old = await invite(admin, orgId, address('lapsing'));

    const { revoking } = await holdingOrganization(h.db, orgId, async (trx) => {
      const revoking = h.call(admin, 'DELETE', `/v1/orgs/${orgId}/invites/${old.id}`);
      await lockWaiters(h.db, 1);
      // The revocation was asked for before this moment; the invite expires during the wait.
      await expireNow(trx, old.id);
      // Wrapped: the transaction must not wait for the revocation, which waits for it.
      return { revoking };
    });
    const res = await revoking;
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().code).toBe('INVITE_NOT_PENDING');

    expect(await inviteRow(old.id)).toEqual({
      status: 'pending',
      revoked_by: null,
      revoked_at: null,
    });
    const audit = await h.auditOf(admin, orgId);
    expect(audit.filter((a) => a.entityId === old.id).map((a) => a.action)).toEqual([
      'invite.created',
    ]);
    const shown = await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites/${old.id}`);
    expect(shown.json().status).toBe('expired');
  });
});

describe('re-inviting an address whose invite expires while the request waits for the organization', () => {
  it('records the old invite as expired, not as revoked by the new one', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = address('lapsing');
    const old = await invite(admin, orgId, guest, 'organizer');

    const { reinviting } = await holdingOrganization(h.db, orgId, async (trx) => {
      const reinviting = h.call(
        admin,
        'POST',
        `/v1/orgs/${orgId}/invites`,
        { email: guest, role: 'user' },
        { 'x-request-id': `reinvite-${randomUUID()}` },
      );
      await lockWaiters(h.db, 1);
      await expireNow(trx, old.id);
      return { reinviting };
    });
    const res = await reinviting;
    expect(res.statusCode, res.body).toBe(201);
    const fresh = res.json() as { id: string };

    await expectExpiredOnReinvite(
      h,
      admin,
      orgId,
      { id: old.id, email: guest, role: 'organizer' },
      res.headers['x-request-id'],
    );
    const listed = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites`)).json().items;
    expect(listed).toEqual([
      expect.objectContaining({ id: fresh.id, status: 'pending' }),
      expect.objectContaining({ id: old.id, status: 'expired' }),
    ]);
  });
});
