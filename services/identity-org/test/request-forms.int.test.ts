import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('email addresses as the identity provider holds them', () => {
  it.each([
    'a#b@example.com',
    'someone@localhost',
    'o!reilly@bücher.de',
  ])('mirrors and announces %s', async (email) => {
    const person = await h.user({ email });
    const me = await h.call(person, 'GET', '/v1/me');
    expect(me.statusCode).toBe(200);
    expect(me.json().user.email).toBe(email);
    const announced = await h.event(
      'identity.user_registered',
      (e) => e.data.userId === person.sub,
    );
    expect(announced.data.email).toBe(email);
  });

  it('invites such an address, and its holder accepts', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const invitee = await h.user({ email: 'team#ops@localhost', emailVerified: true });
    await h.addMember(orgId, admin, 'organizer', invitee);
    const invited = await h.event('identity.member_invited', (e) => e.orgId === orgId);
    expect(invited.data.email).toBe('team#ops@localhost');
  });

  it('still refuses an invite to what is not an address', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const res = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: 'nobody at example.com',
      role: 'user',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ path: 'body.email', message: expect.any(String) }]);
  });
});

describe('a token whose email is not an address', () => {
  /** The user row and the outbox events of `sub`. */
  async function writtenFor(sub: string) {
    const users = await h.db.selectFrom('users').select('email').where('id', '=', sub).execute();
    const { rows } = await sql<{ count: string }>`
      SELECT count(*) AS count FROM outbox WHERE payload->'data'->>'userId' = ${sub}`.execute(h.db);
    return { users, events: Number(rows[0]?.count) };
  }

  function expectEmailInvalid(res: Awaited<ReturnType<Harness['call']>>) {
    expect(res.statusCode, res.body).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      status: 403,
      code: 'EMAIL_INVALID',
      detail:
        "Your account's email address cannot be used here; ask your administrator to correct it.",
    });
  }

  it.each([
    ['a space', 'john doe@example.com'],
    ['more than 320 characters', `${'a'.repeat(309)}@example.com`],
  ])('with %s is refused with 403 EMAIL_INVALID, mirroring and announcing nothing', async (_, email) => {
    const person = await h.user({ email });
    expectEmailInvalid(await h.call(person, 'GET', '/v1/me'));
    expectEmailInvalid(await h.call(person, 'POST', '/v1/signup', { organizationName: 'Nope' }));
    expect(await writtenFor(person.sub)).toEqual({ users: [], events: 0 });
  });

  it('leaves a mirrored person as they were when their newer token carries one', async () => {
    const known = await h.user();
    expect((await h.call(known, 'GET', '/v1/me')).statusCode).toBe(200);
    const before = await writtenFor(known.sub);
    expect(before).toEqual({ users: [{ email: known.email }], events: 1 });
    const broken = await h.user({ sub: known.sub, email: 'john doe@example.com' });
    expectEmailInvalid(await h.call(broken, 'GET', '/v1/me'));
    expect(await writtenFor(known.sub)).toEqual(before);
  });
});

describe('ids written in upper case', () => {
  it('name the same organization, and events carry them in lower case', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const shouted = orgId.toUpperCase();
    const invite = await h.call(admin, 'POST', `/v1/orgs/${shouted}/invites`, {
      email: 'upper.case@example.test',
      role: 'user',
    });
    expect(invite.statusCode).toBe(201);
    const inviteId: string = invite.json().id;
    const invited = await h.event('identity.member_invited', (e) => e.data.inviteId === inviteId);
    expect(invited.orgId).toBe(orgId);
    expect(invited.aggregate.id).toBe(orgId);
    expect(invited.data.organizationId).toBe(orgId);
    const revoked = await h.call(
      admin,
      'DELETE',
      `/v1/orgs/${shouted}/invites/${inviteId.toUpperCase()}`,
    );
    expect(revoked.statusCode).toBe(204);
  });
});

describe('a cursor the list did not give out', () => {
  it('is 400 INVALID_CURSOR naming the query field', async () => {
    const res = await h.call(await h.user(), 'GET', '/v1/me/memberships?cursor=abc');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'INVALID_CURSOR',
      errors: [{ path: 'query.cursor', message: expect.any(String) }],
    });
  });
});
