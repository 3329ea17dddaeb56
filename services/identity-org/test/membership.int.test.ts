import { randomUUID } from 'node:crypto';
import { openInviteLink } from '@happening/contracts';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseNow } from '../src/modules/invites/invite.repository.ts';
import { hashInviteToken } from '../src/modules/invites/invite.token.ts';
import {
  expirePendingInvites,
  startInviteExpiry,
} from '../src/modules/invites/invite-expiry.job.ts';
import {
  type Harness,
  INVITE_TTL_HOURS,
  inviteLinks,
  PUBLIC_APP_URL,
  startHarness,
  type TestUser,
} from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** PATCHes a member's role with the membership's current version in If-Match. */
async function changeRole(caller: TestUser, orgId: string, userId: string, role: string) {
  const { version } = await h.db
    .selectFrom('organization_users')
    .select('version')
    .where('organization_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return h.call(
    caller,
    'PATCH',
    `/v1/orgs/${orgId}/members/${userId}`,
    { role },
    { 'if-match': `"${version}"` },
  );
}

describe('the invite link', () => {
  it('leaves identity-org only sealed for notification: no outbox row or published event holds the token', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const created = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: 'sealed.link@example.test',
      role: 'organizer',
    });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json();

    const published = await h.event('identity.member_invited', (e) => e.data.inviteId === id);
    expect(published.version).toBe(2);
    expect(JSON.stringify(published)).not.toContain(token);
    const { rows } = await sql<{ payload: unknown }>`select payload from outbox`.execute(h.db);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(JSON.stringify(row.payload)).not.toContain(token);

    if (published.type !== 'identity.member_invited' || !('sealedAcceptUrl' in published.data))
      throw new Error('not a version 2 member_invited');
    const data = published.data;
    expect(openInviteLink(inviteLinks, data)).toBe(
      `${PUBLIC_APP_URL}/invites/accept?token=${token}`,
    );
    // Bound to its invite's facts: the same ciphertext opens for no other invite or address.
    expect(() => openInviteLink(inviteLinks, { ...data, inviteId: randomUUID() })).toThrow();
    expect(() => openInviteLink(inviteLinks, { ...data, email: 'x@example.test' })).toThrow();
  });
});

describe('invite → accept → role change → removal', () => {
  it('changes membership and publishes each step', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin, 'Flow Org');
    const guest = await h.user({ email: 'Guest.Flow@Example.test' });

    // Invites are dated on the database's clock.
    const requestedAt = (await databaseNow(h.db)).getTime();
    const invited = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: 'guest.flow@example.test',
      role: 'organizer',
    });
    const answeredAt = (await databaseNow(h.db)).getTime();
    expect(invited.statusCode).toBe(201);
    const invite = invited.json();
    expect(invite).toMatchObject({ email: 'guest.flow@example.test', role: 'organizer' });
    expect(Buffer.from(invite.token, 'base64url')).toHaveLength(32);
    // The invite expires INVITE_TTL_HOURS after it was made.
    const expiresAt = Date.parse(invite.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(requestedAt + INVITE_TTL_HOURS * 3_600_000);
    expect(expiresAt).toBeLessThanOrEqual(answeredAt + INVITE_TTL_HOURS * 3_600_000);

    const stored = await h.db
      .selectFrom('organization_invites')
      .select('token_hash')
      .where('id', '=', invite.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(hashInviteToken(invite.token));
    expect(stored.token_hash).not.toContain(invite.token);

    const invitedEvent = await h.event('identity.member_invited', (e) => e.orgId === orgId);
    expect(invitedEvent.data).toEqual({
      inviteId: invite.id,
      organizationId: orgId,
      organizationName: 'Flow Org',
      email: 'guest.flow@example.test',
      role: 'organizer',
      invitedBy: admin.sub,
      sealedAcceptUrl: expect.any(String),
      expiresAt: invite.expiresAt,
    });

    const listed = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites`)).json();
    expect(listed.items).toEqual([expect.objectContaining({ id: invite.id, status: 'pending' })]);
    expect(JSON.stringify(listed)).not.toContain(invite.token);

    const accepted = await h.call(guest, 'POST', '/v1/invites/accept', { token: invite.token });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().membership).toMatchObject({
      organizationId: orgId,
      userId: guest.sub,
      role: 'organizer',
    });
    const joined = await h.event(
      'identity.member_joined',
      (e) => e.orgId === orgId && e.data.userId === guest.sub,
    );
    expect(joined.data).toEqual({
      organizationId: orgId,
      userId: guest.sub,
      role: 'organizer',
      inviteId: invite.id,
    });

    const again = await h.call(guest, 'POST', '/v1/invites/accept', { token: invite.token });
    expect(again.statusCode).toBe(200);
    expect(again.json().membership).toEqual(accepted.json().membership);

    const promoted = await changeRole(admin, orgId, guest.sub, 'orgAdmin');
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json()).toMatchObject({ userId: guest.sub, role: 'orgAdmin' });
    const changed = await h.event('identity.member_role_changed', (e) => e.orgId === orgId);
    expect(changed.data).toEqual({
      organizationId: orgId,
      userId: guest.sub,
      previousRole: 'organizer',
      role: 'orgAdmin',
      changedBy: admin.sub,
    });

    const removed = await h.call(guest, 'DELETE', `/v1/orgs/${orgId}/members/${admin.sub}`);
    expect(removed.statusCode).toBe(204);
    expect(removed.body).toBe('');
    const removedEvent = await h.event('identity.member_removed', (e) => e.orgId === orgId);
    expect(removedEvent.data).toEqual({
      organizationId: orgId,
      userId: admin.sub,
      role: 'orgAdmin',
      removedBy: guest.sub,
    });
    expect((await h.call(admin, 'GET', `/v1/orgs/${orgId}`)).statusCode).toBe(404);

    // Events of one organization form one ordered stream.
    const stream = h.events.filter((e) => e.orgId === orgId);
    expect(stream.map((e) => e.type)).toEqual([
      'identity.organization_created',
      'identity.member_joined',
      'identity.member_invited',
      'identity.member_joined',
      'identity.member_role_changed',
      'identity.member_removed',
    ]);
    expect(stream.map((e) => e.aggregate.version)).toEqual([1, 2, 3, 4, 5, 6]);

    const audit = (await h.call(guest, 'GET', `/v1/orgs/${orgId}/audit`)).json();
    expect(audit.items.map((a: { action: string }) => a.action)).toEqual([
      // The removed admin owned the organization: it passed to the guest.
      'organization.updated',
      'member.removed',
      'member.role_changed',
      'member.joined',
      'invite.accepted',
      'invite.created',
      'member.joined',
      'organization.created',
    ]);
  });

  it('lets a member leave on their own but not remove others', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const a = await h.addMember(orgId, admin, 'user');
    const b = await h.addMember(orgId, admin, 'organizer');
    expect((await h.call(a, 'DELETE', `/v1/orgs/${orgId}/members/${b.sub}`)).statusCode).toBe(403);
    expect((await h.call(a, 'DELETE', `/v1/orgs/${orgId}/members/${a.sub}`)).statusCode).toBe(204);
    expect((await h.call(a, 'GET', `/v1/orgs/${orgId}/members`)).statusCode).toBe(404);
  });
});

/** A member's version as the members list shows it to `caller`. */
async function listedVersion(caller: TestUser, orgId: string, userId: string): Promise<number> {
  const listed = await h.call(caller, 'GET', `/v1/orgs/${orgId}/members`);
  return listed.json().items.find((item: { userId: string }) => item.userId === userId)?.version;
}

describe('changing a member’s role', () => {
  it('takes If-Match with the membership’s version: 428 without, 412 when stale', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const member = await h.addMember(orgId, admin, 'user');
    const path = `/v1/orgs/${orgId}/members/${member.sub}`;
    const version = await listedVersion(admin, orgId, member.sub);
    const missing = await h.call(admin, 'PATCH', path, { role: 'organizer' });
    expect(missing.statusCode).toBe(428);
    const changed = await h.call(
      admin,
      'PATCH',
      path,
      { role: 'organizer' },
      {
        'if-match': `"${version}"`,
      },
    );
    expect(changed.statusCode).toBe(200);
    const changedVersion = changed.json().version;
    expect(changed.json()).toMatchObject({ role: 'organizer' });
    expect(changedVersion).toBeGreaterThan(version);
    expect(changed.headers.etag).toBe(`"${changedVersion}"`);
    // A second admin working from the same read is told the membership moved on.
    const stale = await h.call(
      admin,
      'PATCH',
      path,
      { role: 'orgAdmin' },
      {
        'if-match': `"${version}"`,
      },
    );
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({
      code: 'VERSION_MISMATCH',
      currentVersion: changedVersion,
    });
    const roles = await h.db
      .selectFrom('organization_users')
      .select('role')
      .where('organization_id', '=', orgId)
      .where('user_id', '=', member.sub)
      .executeTakeFirstOrThrow();
    expect(roles.role).toBe('organizer');
  });

  it('takes If-Match: * as the membership’s current version; 404 for someone who is not a member', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const member = await h.addMember(orgId, admin, 'user');
    const path = `/v1/orgs/${orgId}/members/${member.sub}`;
    const version = await listedVersion(admin, orgId, member.sub);
    const changed = await h.call(admin, 'PATCH', path, { role: 'organizer' }, { 'if-match': '*' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ role: 'organizer' });
    expect(changed.json().version).toBeGreaterThan(version);
    expect(changed.headers.etag).toBe(`"${changed.json().version}"`);

    const stranger = await h.user();
    const missing = await h.call(
      admin,
      'PATCH',
      `/v1/orgs/${orgId}/members/${stranger.sub}`,
      { role: 'organizer' },
      { 'if-match': '*' },
    );
    expect(missing.statusCode, missing.body).toBe(404);
    expect(missing.json().code).toBe('MEMBER_NOT_FOUND');

    // A user id may take up to 255 characters: a long one is looked up too, not refused as a URI.
    for (const method of ['PATCH', 'DELETE'] as const) {
      const long = await h.call(
        admin,
        method,
        `/v1/orgs/${orgId}/members/${'u'.repeat(200)}`,
        method === 'PATCH' ? { role: 'organizer' } : undefined,
        { 'if-match': '*' },
      );
      expect(long.statusCode, long.body).toBe(404);
      expect(long.json().code).toBe('MEMBER_NOT_FOUND');
    }
  });

  it('finds the member however the case of the user id in the path is written', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const member = await h.addMember(orgId, admin, 'user');
    const path = `/v1/orgs/${orgId}/members/${member.sub.toUpperCase()}`;
    const version = await listedVersion(admin, orgId, member.sub);
    const changed = await h.call(
      admin,
      'PATCH',
      path,
      { role: 'organizer' },
      { 'if-match': `"${version}"` },
    );
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ userId: member.sub, role: 'organizer' });

    const removed = await h.call(admin, 'DELETE', path);
    expect(removed.statusCode, removed.body).toBe(204);
    const left = await h.call(member, 'GET', `/v1/orgs/${orgId}`);
    expect(left.statusCode).toBe(404);
  });

  it('never gives a member who left and came back a version an old read still holds', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const member = await h.addMember(orgId, admin, 'user');
    const path = `/v1/orgs/${orgId}/members/${member.sub}`;
    const versionOf = () => listedVersion(admin, orgId, member.sub);
    const before = await versionOf();
    expect((await h.call(admin, 'DELETE', path)).statusCode).toBe(204);
    await h.addMember(orgId, admin, 'orgAdmin', member);
    expect(await versionOf()).not.toBe(before);
    // A demotion decided on the read from before the member left changes nothing.
    const stale = await h.call(
      admin,
      'PATCH',
      path,
      { role: 'user' },
      {
        'if-match': `"${before}"`,
      },
    );
    expect(stale.statusCode).toBe(412);
  });
});

describe('the last orgAdmin', () => {
  it('can be neither demoted nor removed', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const demote = await changeRole(admin, orgId, admin.sub, 'user');
    expect(demote.statusCode).toBe(409);
    expect(demote.json().code).toBe('LAST_ORG_ADMIN');
    const leave = await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/members/${admin.sub}`);
    expect(leave.statusCode).toBe(409);
  });

  it('survives two concurrent demotions: exactly one succeeds, the other is 409', async () => {
    for (let round = 0; round < 4; round++) {
      const a = await h.user();
      const orgId = await h.signUp(a);
      const b = await h.addMember(orgId, a, 'orgAdmin');
      const answers = await Promise.all([
        changeRole(a, orgId, a.sub, 'organizer'),
        changeRole(b, orgId, b.sub, 'user'),
      ]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      expect(answers.find((r) => r.statusCode === 409)?.json().code).toBe('LAST_ORG_ADMIN');
      const { count } = await h.db
        .selectFrom('organization_users')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('organization_id', '=', orgId)
        .where('role', '=', 'orgAdmin')
        .executeTakeFirstOrThrow();
      expect(Number(count)).toBe(1);
    }
  });

  it('survives admins demoting each other at the same time', async () => {
    const a = await h.user();
    const orgId = await h.signUp(a);
    const b = await h.addMember(orgId, a, 'orgAdmin');
    const answers = await Promise.all([
      changeRole(a, orgId, b.sub, 'user'),
      changeRole(b, orgId, a.sub, 'user'),
    ]);
    const codes = answers.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    // The loser is either no longer an orgAdmin (403) or would demote the last one (409).
    expect(codes.filter((c) => c !== 200).every((c) => c === 403 || c === 409)).toBe(true);
    const { count } = await h.db
      .selectFrom('organization_users')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('organization_id', '=', orgId)
      .where('role', '=', 'orgAdmin')
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(1);
  });

  it('re-reads the caller’s role under the organization lock: an admin demoted meanwhile cannot invite, revoke or rename', async () => {
    const a = await h.user();
    const orgId = await h.signUp(a);
    const b = await h.addMember(orgId, a, 'orgAdmin');
    const invited = await h.call(a, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: `someone-${randomUUID().slice(0, 6)}@example.test`,
      role: 'user',
    });
    const inviteId = invited.json().id;
    const attempts = [
      () =>
        h.call(b, 'POST', `/v1/orgs/${orgId}/invites`, {
          email: `other-${randomUUID().slice(0, 6)}@example.test`,
          role: 'orgAdmin',
        }),
      () => h.call(b, 'DELETE', `/v1/orgs/${orgId}/invites/${inviteId}`),
      () => h.call(b, 'PATCH', `/v1/orgs/${orgId}`, { name: 'Taken over' }, { 'if-match': '1' }),
    ];
    for (const attempt of attempts) {
      await changeRole(a, orgId, b.sub, 'orgAdmin');
      // b passes the route's role check, then waits for the organization while a demotes b.
      const { pending } = await h.db.transaction().execute(async (trx) => {
        await sql`SELECT 1 FROM organizations WHERE id = ${orgId} FOR UPDATE`.execute(trx);
        const request = attempt();
        await eventually(async () => {
          const { rows } = await sql<{ n: string }>`
            SELECT count(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(h.db);
          return Number(rows[0]?.n) > 0;
        });
        await sql`UPDATE organization_users SET role = 'user'
                  WHERE organization_id = ${orgId} AND user_id = ${b.sub}`.execute(trx);
        // Not awaited here: the request waits for this transaction to end.
        return { pending: request };
      });
      const answer = await pending;
      expect(answer.statusCode, answer.body).toBe(403);
    }
    const pending = await h.db
      .selectFrom('organization_invites')
      .select('id')
      .where('organization_id', '=', orgId)
      .where('status', '=', 'pending')
      .execute();
    expect(pending.map((row) => row.id)).toEqual([inviteId]);
  });
});

describe('invite acceptance', () => {
  async function invite(orgId: string, admin: Awaited<ReturnType<Harness['user']>>, email: string) {
    const res = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, { email, role: 'user' });
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; token: string };
  }

  it('answers 410 to an expired invite, and the sweep marks it expired', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = await h.user();
    const { id, token } = await invite(orgId, admin, guest.email);
    await h.db
      .updateTable('organization_invites')
      .set({ expires_at: sql<Date>`now() - interval '1 minute'` })
      .where('id', '=', id)
      .execute();

    const early = await h.call(guest, 'POST', '/v1/invites/accept', { token });
    expect(early.statusCode).toBe(410);
    expect(early.json().code).toBe('INVITE_EXPIRED');
    // Expired before the sweep saw it: there is nothing left to revoke.
    const revoked = await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/invites/${id}`);
    expect(revoked.statusCode).toBe(409);
    expect(revoked.json().code).toBe('INVITE_NOT_PENDING');

    expect(await expirePendingInvites(h.db)).toBeGreaterThanOrEqual(1);
    expect(await expirePendingInvites(h.db)).toBe(0);
    const row = await h.db
      .selectFrom('organization_invites')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('expired');
    expect((await h.call(guest, 'POST', '/v1/invites/accept', { token })).statusCode).toBe(410);

    const audit = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/audit?limit=1`)).json();
    expect(audit.items[0]).toMatchObject({ action: 'invite.expired', entityId: id, actorId: null });
    const listed = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites`)).json();
    expect(listed.items[0]).toMatchObject({ id, status: 'expired' });
  });

  it('is expired by the periodic sweep without anyone asking', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const { id } = await invite(orgId, admin, `periodic-${orgId.slice(0, 6)}@example.test`);
    await h.db
      .updateTable('organization_invites')
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', id)
      .execute();
    const sweep = startInviteExpiry({
      db: h.db,
      intervalMs: 50,
      logger: pino({ level: 'silent' }),
    });
    try {
      await eventually(async () => {
        const row = await h.db
          .selectFrom('organization_invites')
          .select('status')
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        return row.status === 'expired';
      });
    } finally {
      await sweep.stop();
    }
  });

  it('expires each invite once when several replicas sweep at the same time', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    for (let i = 0; i < 5; i++)
      await invite(orgId, admin, `sweep-${i}-${orgId.slice(0, 6)}@example.test`);
    await h.db
      .updateTable('organization_invites')
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where('organization_id', '=', orgId)
      .execute();
    const counts = await Promise.all([1, 2, 3].map(() => expirePendingInvites(h.db)));
    const audited = await h.db
      .selectFrom('audit_log')
      .select('entity_id')
      .where('organization_id', '=', orgId)
      .where('action', '=', 'invite.expired')
      .execute();
    expect(audited).toHaveLength(5);
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5);
  });

  it('answers 409 to a revoked invite; revoking twice is harmless', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = await h.user();
    const { id, token } = await invite(orgId, admin, guest.email);
    expect((await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/invites/${id}`)).statusCode).toBe(204);
    expect((await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/invites/${id}`)).statusCode).toBe(204);
    const res = await h.call(guest, 'POST', '/v1/invites/accept', { token });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('INVITE_REVOKED');
  });

  it('answers 409 when an accepted invite is used again after leaving', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = await h.user();
    const { id, token } = await invite(orgId, admin, guest.email);
    expect((await h.call(guest, 'POST', '/v1/invites/accept', { token })).statusCode).toBe(200);
    expect(
      (await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/members/${guest.sub}`)).statusCode,
    ).toBe(204);
    const reuse = await h.call(guest, 'POST', '/v1/invites/accept', { token });
    expect(reuse.statusCode).toBe(409);
    expect(reuse.json().code).toBe('INVITE_ALREADY_USED');
    const revokeUsed = await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/invites/${id}`);
    expect(revokeUsed.statusCode).toBe(409);
  });

  it('answers 403 to another address or an unverified one, and 404 to an unknown token', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const { token } = await invite(orgId, admin, 'intended@example.test');
    const stranger = await h.user();
    const wrong = await h.call(stranger, 'POST', '/v1/invites/accept', { token });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe('INVITE_EMAIL_MISMATCH');
    const unverified = await h.user({ email: 'intended@example.test', emailVerified: false });
    expect((await h.call(unverified, 'POST', '/v1/invites/accept', { token })).statusCode).toBe(
      403,
    );
    const unknown = await h.call(stranger, 'POST', '/v1/invites/accept', { token: 'nope' });
    expect(unknown.statusCode).toBe(404);
  });

  it('checks the address identity-org holds, not that of an older token still in use', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const sub = randomUUID();
    const oldAddress = `old-${sub.slice(0, 8)}@example.test`;
    // The person moved to a new address; a token minted before the move is still valid.
    const moved = await h.user({ sub, email: `new-${sub.slice(0, 8)}@example.test` });
    expect((await h.call(moved, 'GET', '/v1/me')).json().user.email).toBe(moved.email);
    const olderToken = await h.user({ sub, email: oldAddress, issuedAgo: 120 });
    const { token } = await invite(orgId, admin, oldAddress);
    const refused = await h.call(olderToken, 'POST', '/v1/invites/accept', { token });
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().code).toBe('INVITE_EMAIL_MISMATCH');
  });

  it('accepts concurrently twice with one membership and one member_joined', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = await h.user();
    const { token } = await invite(orgId, admin, guest.email);
    const answers = await Promise.all([
      h.call(guest, 'POST', '/v1/invites/accept', { token }),
      h.call(guest, 'POST', '/v1/invites/accept', { token }),
    ]);
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200]);
    await h.event('identity.member_joined', (e) => e.data.userId === guest.sub);
    const members = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/members`)).json().items;
    expect(members).toHaveLength(2);
    const joins = h.events.filter(
      (e) => e.type === 'identity.member_joined' && e.data.userId === guest.sub,
    );
    expect(joins).toHaveLength(1);
  });

  it('supersedes a pending invite to the same address and refuses to invite a member', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = await h.user();
    const first = await invite(orgId, admin, guest.email);
    const second = await invite(orgId, admin, guest.email.toUpperCase());
    expect(
      (await h.call(guest, 'POST', '/v1/invites/accept', { token: first.token })).statusCode,
    ).toBe(409);
    expect(
      (await h.call(guest, 'POST', '/v1/invites/accept', { token: second.token })).statusCode,
    ).toBe(200);
    const again = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: guest.email,
      role: 'organizer',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('ALREADY_MEMBER');
  });
});
