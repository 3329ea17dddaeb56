import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expirePendingInvites } from '../src/modules/invites/invite-expiry.job.ts';
import { type Harness, startHarness, type TestUser } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** The actions `audit_log_action_check` allows, read from the database. */
async function allowedActions(): Promise<string[]> {
  const { rows } = await sql<{ definition: string }>`
    SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint
    WHERE conname = 'audit_log_action_check'`.execute(h.db);
  const definition = rows[0]?.definition ?? '';
  return [...definition.matchAll(/'([^']+)'::text/g)].map((m) => m[1]!).sort();
}

async function invite(admin: TestUser, orgId: string, email: string, role = 'user') {
  const res = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, { email, role });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; token: string };
}

describe('audit_log.action', () => {
  it('refuses an action outside the list', async () => {
    const orgId = await h.signUp(await h.user());
    const insert = h.db
      .insertInto('audit_log')
      .values({
        organization_id: orgId,
        actor_id: null,
        action: 'bogus',
        entity_type: 'organization',
        entity_id: orgId,
        before: null,
        after: null,
        request_id: null,
      })
      .execute();
    await expect(insert).rejects.toMatchObject({
      code: '23514',
      constraint: 'audit_log_action_check',
    });
  });

  it('takes every action the service writes, and allows no other', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    const renamed = await h.call(
      owner,
      'PATCH',
      `/v1/orgs/${orgId}`,
      { name: 'Renamed' },
      { 'if-match': '*' },
    );
    expect(renamed.statusCode).toBe(200);

    const guest = await h.user();
    const { token } = await invite(owner, orgId, guest.email, 'organizer');
    expect((await h.call(guest, 'POST', '/v1/invites/accept', { token })).statusCode).toBe(200);
    const promoted = await h.call(
      owner,
      'PATCH',
      `/v1/orgs/${orgId}/members/${guest.sub}`,
      { role: 'orgAdmin' },
      { 'if-match': '*' },
    );
    expect(promoted.statusCode).toBe(200);

    const revoked = await invite(owner, orgId, `revoked-${randomUUID().slice(0, 8)}@example.test`);
    expect(
      (await h.call(owner, 'DELETE', `/v1/orgs/${orgId}/invites/${revoked.id}`)).statusCode,
    ).toBe(204);
    const lapsed = await invite(owner, orgId, `lapsed-${randomUUID().slice(0, 8)}@example.test`);
    await sql`UPDATE organization_invites SET expires_at = now() - interval '1 minute'
              WHERE id = ${lapsed.id}`.execute(h.db);
    expect(await expirePendingInvites(h.db)).toBeGreaterThanOrEqual(1);

    // The owner leaves: member.removed, and the hand-over to the guest as organization.updated.
    expect(
      (await h.call(owner, 'DELETE', `/v1/orgs/${orgId}/members/${owner.sub}`)).statusCode,
    ).toBe(204);

    const written = await h.db
      .selectFrom('audit_log')
      .select('action')
      .distinct()
      .where('organization_id', '=', orgId)
      .execute();
    expect(written.map((r) => r.action).sort()).toEqual(await allowedActions());
  });
});
