import { randomUUID } from 'node:crypto';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expirePendingInvites } from '../src/modules/invites/invite-expiry.job.ts';
import { lockOrganization } from '../src/shared/org-events.ts';
import { type Harness, startHarness } from './harness.ts';
import { expectExpiredOnReinvite } from './invite-expiry.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('re-inviting an address whose invite has expired but was not swept yet', () => {
  it('records the old invite as expired, as the sweep would, not as revoked', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = await h.user({ email: `lapsed-${randomUUID().slice(0, 8)}@example.test` });
    const first = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: guest.email,
      role: 'organizer',
    });
    expect(first.statusCode).toBe(201);
    const old = first.json() as { id: string; token: string };
    // Past its expiry; the sweep (hourly in the harness) has not run since.
    await sql`UPDATE organization_invites SET expires_at = now() - interval '1 minute'
              WHERE id = ${old.id}`.execute(h.db);

    const again = await h.call(
      admin,
      'POST',
      `/v1/orgs/${orgId}/invites`,
      { email: guest.email, role: 'user' },
      { 'x-request-id': `reinvite-${randomUUID()}` },
    );
    expect(again.statusCode, again.body).toBe(201);
    const fresh = again.json() as { id: string };

    const listed = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites`)).json().items;
    expect(listed).toEqual([
      expect.objectContaining({ id: fresh.id, status: 'pending' }),
      expect.objectContaining({ id: old.id, status: 'expired' }),
    ]);
    await expectExpiredOnReinvite(
      h,
      admin,
      orgId,
      { id: old.id, email: guest.email, role: 'organizer' },
      again.headers['x-request-id'],
    );

    // Its token answers as an expired invite's does; the sweep finds nothing more to record.
    const accept = await h.call(guest, 'POST', '/v1/invites/accept', { token: old.token });
    expect(accept.statusCode).toBe(410);
    expect(accept.json().code).toBe('INVITE_EXPIRED');
    await expirePendingInvites(h.db);
    const after = await h.auditOf(admin, orgId);
    expect(after.filter((a) => a.entityId === old.id).map((a) => a.action)).toEqual([
      'invite.expired',
      'invite.created',
    ]);
  });
});

describe('the expiry sweep beside a request that holds the organization', () => {
  it('waits for the organization, then expires its invites: the same lock order, no deadlock', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const invited = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: `swept-${randomUUID().slice(0, 8)}@example.test`,
      role: 'user',
    });
    const invite = invited.json() as { id: string };
    await sql`UPDATE organization_invites SET expires_at = now() - interval '1 minute'
              WHERE id = ${invite.id}`.execute(h.db);

    let sweep: Promise<number> | undefined;
    // A request's transaction: the organization's lock first, then the invites it works on.
    await h.db.transaction().execute(async (trx) => {
      expect(await lockOrganization(trx, orgId)).toBeDefined();
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
      sweep = expirePendingInvites(h.db);
      sweep.catch(() => {});
      // The sweep waits for the organization this transaction holds.
      await eventually(async () => {
        const waiting = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE ${rows[0]!.pid} = ANY(pg_blocking_pids(pid))`.execute(h.db);
        return (waiting.rows[0]?.n ?? 0) > 0;
      });
      await sql`UPDATE organization_invites SET role = role WHERE id = ${invite.id}`.execute(trx);
    });
    expect(await sweep).toBeGreaterThanOrEqual(1);
    const row = await h.db
      .selectFrom('organization_invites')
      .select('status')
      .where('id', '=', invite.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('expired');
  });
});
