import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestUser } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/**
 * An organization owned by `owner` with a second orgAdmin, `admin`, who has invited `spare`
 * (another address of their own) as orgAdmin; the owner has invited someone else.
 */
async function adminWithPendingInvite() {
  const owner = await h.user();
  const orgId = await h.signUp(owner);
  const admin = await h.addMember(orgId, owner, 'orgAdmin');
  const spare = await h.user({ email: `spare-${randomUUID().slice(0, 8)}@example.test` });
  const adminsInvite = await invite(admin, orgId, spare.email, 'orgAdmin');
  const guest = await h.user();
  const ownersInvite = await invite(owner, orgId, guest.email, 'organizer');
  return { owner, orgId, admin, spare, adminsInvite, guest, ownersInvite };
}

async function invite(by: TestUser, orgId: string, email: string, role: string) {
  const res = await h.call(by, 'POST', `/v1/orgs/${orgId}/invites`, { email, role });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; token: string };
}

/** PATCHes a member's role with If-Match: * (whatever version is current). */
function changeRole(caller: TestUser, orgId: string, userId: string, role: string) {
  return h.call(
    caller,
    'PATCH',
    `/v1/orgs/${orgId}/members/${userId}`,
    { role },
    {
      'if-match': '*',
    },
  );
}

async function statusOf(admin: TestUser, orgId: string, inviteId: string) {
  const listed = await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites`);
  expect(listed.statusCode).toBe(200);
  return listed.json().items.find((i: { id: string }) => i.id === inviteId)?.status;
}

/**
 * Asserts that the admin's invite to their spare address was revoked by `actor`: refused on
 * accept with INVITE_REVOKED, listed as revoked, and audited as the only `invite.revoked`, in the
 * request of the membership change audited as `cause`.
 */
async function expectRevokedWith(
  setup: Awaited<ReturnType<typeof adminWithPendingInvite>>,
  actor: TestUser,
  cause: string,
) {
  const { owner, orgId, spare, adminsInvite } = setup;
  const accept = await h.call(spare, 'POST', '/v1/invites/accept', { token: adminsInvite.token });
  expect(accept.statusCode, accept.body).toBe(409);
  expect(accept.json().code).toBe('INVITE_REVOKED');
  expect(await statusOf(owner, orgId, adminsInvite.id)).toBe('revoked');
  const members = (await h.call(owner, 'GET', `/v1/orgs/${orgId}/members`)).json().items;
  expect(members.map((m: { userId: string }) => m.userId)).not.toContain(spare.sub);

  const audit = await h.auditOf(owner, orgId);
  const revocations = audit.filter((a) => a.action === 'invite.revoked');
  expect(revocations).toEqual([
    {
      id: expect.any(String),
      action: 'invite.revoked',
      actorId: actor.sub,
      entityType: 'invite',
      entityId: adminsInvite.id,
      before: { status: 'pending' },
      after: { status: 'revoked' },
      requestId: expect.any(String),
      createdAt: expect.any(String),
    },
  ]);
  const causing = audit.find((a) => a.action === cause);
  expect(causing?.requestId).toBe(revocations[0]?.requestId);

  const row = await h.db
    .selectFrom('organization_invites')
    .select(['revoked_by', 'revoked_at'])
    .where('id', '=', adminsInvite.id)
    .executeTakeFirstOrThrow();
  expect(row.revoked_by).toBe(actor.sub);
  expect(row.revoked_at).not.toBeNull();
}

/** What DELETE /invites/{id} records for an invite: its audit entry and the organization's outbox. */
async function explicitRevocation() {
  const owner = await h.user();
  const orgId = await h.signUp(owner);
  const email = `explicit-${randomUUID().slice(0, 8)}@example.test`;
  const { id } = await invite(owner, orgId, email, 'user');
  expect((await h.call(owner, 'DELETE', `/v1/orgs/${orgId}/invites/${id}`)).statusCode).toBe(204);
  const [latest] = await h.auditOf(owner, orgId);
  return { audit: latest, outbox: await outboxOf(orgId) };
}

/** The routing keys of the organization's outbox messages, oldest first. */
async function outboxOf(orgId: string): Promise<string[]> {
  const { rows } = await sql<{ routing_key: string }>`
    SELECT routing_key FROM outbox WHERE aggregate_id = ${orgId} ORDER BY id`.execute(h.db);
  return rows.map((row) => row.routing_key);
}

describe('an orgAdmin’s pending invites', () => {
  it('are revoked when another admin removes them: the second address they invited cannot join', async () => {
    const setup = await adminWithPendingInvite();
    const { owner, orgId, admin } = setup;
    const removed = await h.call(owner, 'DELETE', `/v1/orgs/${orgId}/members/${admin.sub}`);
    expect(removed.statusCode, removed.body).toBe(204);
    await expectRevokedWith(setup, owner, 'member.removed');

    // An explicit revocation writes no outbox message, so neither does this one.
    const explicit = await explicitRevocation();
    expect(explicit.outbox).toEqual([
      'identity.organization_created',
      'identity.member_joined',
      'identity.member_invited',
    ]);
    expect(await outboxOf(orgId)).toEqual([
      'identity.organization_created',
      'identity.member_joined',
      'identity.member_invited',
      'identity.member_joined',
      'identity.member_invited',
      'identity.member_invited',
      'identity.member_removed',
    ]);
    const revocation = (await h.auditOf(owner, orgId)).find((a) => a.action === 'invite.revoked');
    expect(revocation).toMatchObject({
      action: explicit.audit?.action,
      entityType: explicit.audit?.entityType,
      before: explicit.audit?.before,
      after: explicit.audit?.after,
    });
  });

  it.each(['organizer', 'user'])('are revoked when they are demoted to %s', async (role) => {
    const setup = await adminWithPendingInvite();
    const { owner, orgId, admin } = setup;
    const demoted = await changeRole(owner, orgId, admin.sub, role);
    expect(demoted.statusCode, demoted.body).toBe(200);
    await expectRevokedWith(setup, owner, 'member.role_changed');
    // Promoted again, they can invite anew, but the revoked invite stays revoked.
    expect((await changeRole(owner, orgId, admin.sub, 'orgAdmin')).statusCode).toBe(200);
    expect(await statusOf(owner, orgId, setup.adminsInvite.id)).toBe('revoked');
  });

  it('are revoked when they leave on their own', async () => {
    const setup = await adminWithPendingInvite();
    const { orgId, admin } = setup;
    const left = await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/members/${admin.sub}`);
    expect(left.statusCode, left.body).toBe(204);
    await expectRevokedWith(setup, admin, 'member.removed');
  });

  it('leave other admins’ invites and their own used or expired ones as they were', async () => {
    const setup = await adminWithPendingInvite();
    const { owner, orgId, admin, guest, ownersInvite } = setup;
    const joined = await h.user();
    const used = await invite(admin, orgId, joined.email, 'user');
    expect(
      (await h.call(joined, 'POST', '/v1/invites/accept', { token: used.token })).statusCode,
    ).toBe(200);
    const lapsed = await invite(
      admin,
      orgId,
      `lapsed-${randomUUID().slice(0, 8)}@example.test`,
      'user',
    );
    await h.db
      .updateTable('organization_invites')
      .set({ expires_at: sql<Date>`now() - interval '1 minute'` })
      .where('id', '=', lapsed.id)
      .execute();

    expect(
      (await h.call(owner, 'DELETE', `/v1/orgs/${orgId}/members/${admin.sub}`)).statusCode,
    ).toBe(204);
    expect(await statusOf(owner, orgId, setup.adminsInvite.id)).toBe('revoked');
    expect(await statusOf(owner, orgId, used.id)).toBe('accepted');
    expect(await statusOf(owner, orgId, lapsed.id)).toBe('expired');
    expect(await statusOf(owner, orgId, ownersInvite.id)).toBe('pending');
    const revoked = (await h.auditOf(owner, orgId)).filter((a) => a.action === 'invite.revoked');
    expect(revoked.map((a) => a.entityId)).toEqual([setup.adminsInvite.id]);

    const accept = await h.call(guest, 'POST', '/v1/invites/accept', { token: ownersInvite.token });
    expect(accept.statusCode, accept.body).toBe(200);
  });

  it('stay valid through a role change that keeps them orgAdmin, and a demotion of someone else', async () => {
    const setup = await adminWithPendingInvite();
    const { owner, orgId, admin } = setup;
    const other = await h.addMember(orgId, owner, 'orgAdmin');
    expect((await changeRole(owner, orgId, admin.sub, 'orgAdmin')).statusCode).toBe(200);
    expect((await changeRole(owner, orgId, other.sub, 'user')).statusCode).toBe(200);
    expect(await statusOf(owner, orgId, setup.adminsInvite.id)).toBe('pending');
    const accept = await h.call(setup.spare, 'POST', '/v1/invites/accept', {
      token: setup.adminsInvite.token,
    });
    expect(accept.statusCode, accept.body).toBe(200);
  });
});
