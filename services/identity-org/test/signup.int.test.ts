import { randomUUID } from 'node:crypto';
import { idempotencyKeyCompletionFails, withFailingWrites } from '@happening/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncUser } from '../src/modules/users/user.sync.ts';
import { type Harness, ORGANIZATIONS_PER_OWNER, startHarness, type TestUser } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('sign-up', () => {
  it('creates the user, an organization and an orgAdmin membership, and publishes it all', async () => {
    const owner = await h.user({ name: 'Ada Lovelace' });
    const requestId = `signup-${randomUUID()}`;
    const res = await h.call(
      owner,
      'POST',
      '/v1/signup',
      { organizationName: 'Ada’s Analytical Events' },
      { 'x-request-id': requestId },
    );
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toMatchObject({ id: owner.sub, email: owner.email, name: 'Ada Lovelace' });
    expect(body.organization).toMatchObject({
      name: 'Ada’s Analytical Events',
      slug: 'ada-s-analytical-events',
      status: 'active',
      ownerId: owner.sub,
      version: 1,
    });
    expect(body.membership).toMatchObject({
      organizationId: body.organization.id,
      userId: owner.sub,
      role: 'orgAdmin',
    });

    const registered = await h.event(
      'identity.user_registered',
      (e) => e.data.userId === owner.sub,
    );
    expect(registered).toMatchObject({
      source: 'identity-org',
      data: { userId: owner.sub, email: owner.email, name: 'Ada Lovelace' },
      aggregate: { type: 'user', id: owner.sub },
    });
    const orgId = body.organization.id;
    const created = await h.event('identity.organization_created', (e) => e.orgId === orgId);
    expect(created).toMatchObject({
      correlationId: requestId,
      aggregate: { type: 'organization', id: orgId, version: 1 },
      data: { organizationId: orgId, name: 'Ada’s Analytical Events', ownerId: owner.sub },
    });
    const joined = await h.event('identity.member_joined', (e) => e.orgId === orgId);
    expect(joined).toMatchObject({
      aggregate: { version: 2 },
      data: { organizationId: orgId, userId: owner.sub, role: 'orgAdmin' },
    });
    expect(joined.data.inviteId).toBeUndefined();
  });

  it('publishes user_registered once however often and however concurrently the user calls', async () => {
    const person = await h.user();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => h.call(person, 'GET', '/v1/me')),
    );
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    await h.signUp(person);
    await h.event('identity.organization_created', (e) => e.data.ownerId === person.sub);
    const registrations = h.events.filter(
      (e) => e.type === 'identity.user_registered' && e.data.userId === person.sub,
    );
    expect(registrations).toHaveLength(1);
  });

  it('mirrors a person whose first requests race each other, once', async () => {
    for (let round = 0; round < 30; round++) {
      const sub = randomUUID();
      const identity = { sub, email: `${sub.slice(0, 8)}@example.test`, emailVerified: true };
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => syncUser(h.db, identity, `race-${round}`)),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    }
  });

  it('refuses an email that belongs to another account', async () => {
    const email = `taken-${randomUUID().slice(0, 8)}@example.test`;
    expect((await h.call(await h.user({ email }), 'GET', '/v1/me')).statusCode).toBe(200);
    const other = await h.call(await h.user({ email: email.toUpperCase() }), 'GET', '/v1/me');
    expect(other.statusCode).toBe(409);
    expect(other.json().code).toBe('EMAIL_IN_USE');
  });

  it('refreshes the mirrored name and email from a newer token', async () => {
    const sub = randomUUID();
    await h.call(await h.user({ sub, name: 'Old Name' }), 'GET', '/v1/me');
    const renamed = await h.user({
      sub,
      name: 'New Name',
      email: `new-${sub.slice(0, 6)}@example.test`,
    });
    const me = await h.call(renamed, 'GET', '/v1/me');
    expect(me.json().user).toMatchObject({ name: 'New Name', email: renamed.email });
    // Announced again, newer, so the services that mail people follow the change.
    const announced = await h.event(
      'identity.user_registered',
      (e) => e.data.userId === sub && e.aggregate.version === 2,
    );
    expect(announced.data).toMatchObject({ email: renamed.email, name: 'New Name' });
    await h.call(renamed, 'GET', '/v1/me');
    expect(await announcementsOf(sub)).toEqual([1, 2]);
  });

  it('announces a change of the email’s verification alone, so notification follows it', async () => {
    const sub = randomUUID();
    const email = `verify-${sub.slice(0, 6)}@example.test`;
    const unverified = await h.user({ sub, email, name: 'Vera', emailVerified: false });
    await h.call(unverified, 'GET', '/v1/me');
    const first = await h.event(
      'identity.user_registered',
      (e) => e.data.userId === sub && e.aggregate.version === 1,
    );
    expect(first.data).toMatchObject({ email, emailVerified: false });

    await h.call(await h.user({ sub, email, name: 'Vera', emailVerified: true }), 'GET', '/v1/me');
    const verified = await h.event(
      'identity.user_registered',
      (e) => e.data.userId === sub && e.aggregate.version === 2,
    );
    expect(verified.data).toEqual({ userId: sub, email, name: 'Vera', emailVerified: true });
    // The unverified token, older, still in use: it changes nothing and announces nothing.
    const older = await h.user({ sub, email, name: 'Vera', emailVerified: false, issuedAgo: 60 });
    await h.call(older, 'GET', '/v1/me');
    expect(await announcementsOf(sub)).toEqual([1, 2]);
    const stored = await h.db
      .selectFrom('users')
      .select(['email_verified', 'version'])
      .where('id', '=', sub)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ email_verified: true, version: 2 });

    // Unverified again by a newer token (the provider reset it): announced too.
    await h.call(await h.user({ sub, email, name: 'Vera', emailVerified: false }), 'GET', '/v1/me');
    const unverifiedAgain = await h.event(
      'identity.user_registered',
      (e) => e.data.userId === sub && e.aggregate.version === 3,
    );
    expect(unverifiedAgain.data).toMatchObject({ emailVerified: false });
    expect(await announcementsOf(sub)).toEqual([1, 2, 3]);
  });

  it('records a newer token’s issue time even when its details are unchanged', async () => {
    const sub = randomUUID();
    const current = await h.user({ sub, name: 'Current Name' });
    await h.call(current, 'GET', '/v1/me');
    // Mirrored before issue times were recorded.
    await sql`UPDATE users SET mirrored_token_issued_at = NULL WHERE id = ${sub}`.execute(h.db);
    await h.call(current, 'GET', '/v1/me');
    const older = await h.user({ sub, name: 'Old Name', email: current.email, issuedAgo: 300 });
    const me = await h.call(older, 'GET', '/v1/me');
    expect(me.json().user.name).toBe('Current Name');
    expect(await announcementsOf(sub)).toEqual([1]);
  });

  it('takes no details from a token older than the one they were mirrored from', async () => {
    const sub = randomUUID();
    const newer = await h.user({
      sub,
      name: 'New Name',
      email: `new-${sub.slice(0, 6)}@example.test`,
    });
    // Minted earlier, still valid, sent after the newer one (another device, say).
    const older = await h.user({ sub, name: 'Old Name', issuedAgo: 120 });
    expect((await h.call(newer, 'GET', '/v1/me')).json().user.email).toBe(newer.email);
    const me = await h.call(older, 'GET', '/v1/me');
    expect(me.statusCode).toBe(200);
    expect(me.json().user).toMatchObject({ name: 'New Name', email: newer.email });
    expect(await announcementsOf(sub)).toEqual([1]);
  });

  it('gives organizations with the same name distinct slugs, also when created concurrently', async () => {
    const owner = await h.user();
    const name = `Same Name ${randomUUID().slice(0, 4)}`;
    const answers = await Promise.all([
      h.call(owner, 'POST', '/v1/signup', { organizationName: name }),
      h.call(owner, 'POST', '/v1/orgs', { name }),
      h.call(owner, 'POST', '/v1/orgs', { name }),
    ]);
    expect(answers.map((r) => r.statusCode)).toEqual([201, 201, 201]);
    const slugs = answers.map((r) => r.json().organization.slug).sort();
    const base = name.toLowerCase().replace(/ /g, '-');
    expect(slugs).toEqual([base, `${base}-2`, `${base}-3`]);
  });

  it('gives different people signing up at once distinct slugs where their names meet', async () => {
    const tag = randomUUID().slice(0, 8).replace(/[0-9]/g, 'x');
    const names = [
      // The same name, and names that are another's candidates ("Club 2" is "club"'s second).
      ...Array.from({ length: 5 }, () => `Club ${tag}`),
      `Club ${tag} 2`,
      `Club ${tag} 3`,
      // Nothing URL-safe in the name: every one of them starts from "org".
      ...['Школа', 'Клуб', 'Театр', 'Музей', 'Оркестр', 'Хор', '東京', '大阪'],
    ];
    const owners = await Promise.all(names.map(() => h.user()));
    const answers = await Promise.all(
      names.map((organizationName, i) =>
        h.call(owners[i], 'POST', '/v1/signup', { organizationName }),
      ),
    );
    expect(answers.map((r) => r.statusCode)).toEqual(names.map(() => 201));
    const slugs = answers.map((r) => r.json().organization.slug as string);
    expect(new Set(slugs).size).toBe(names.length);
    expect(slugs.slice(0, 5)).toContain(`club-${tag}`);
    for (const slug of slugs.slice(0, 7))
      expect(slug).toMatch(new RegExp(`^club-${tag}(-[0-9]+)+$|^club-${tag}$`));
    for (const slug of slugs.slice(7)) expect(slug).toMatch(/^org(-[0-9]+)?$/);
  });

  it('gives long names distinct slugs past the ones cut to fit their number', async () => {
    const owner = await h.user();
    const name = `${randomUUID().slice(0, 8)}${'a'.repeat(52)}`;
    const slugs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await h.call(owner, 'POST', '/v1/orgs', { name });
      expect(answer.statusCode, answer.body).toBe(201);
      slugs.push(answer.json().organization.slug);
    }
    const base = name.slice(0, 48);
    expect(slugs).toEqual([base, `${base.slice(0, 46)}-2`, `${base.slice(0, 46)}-3`]);
  });

  it('lists every membership of the caller on /v1/me', async () => {
    const owner = await h.user();
    const first = await h.signUp(owner, 'First');
    const second = (await h.call(owner, 'POST', '/v1/orgs', { name: 'Second' })).json();
    const me = (await h.call(owner, 'GET', '/v1/me')).json();
    expect(me.user.id).toBe(owner.sub);
    expect(me.memberships).toEqual([
      expect.objectContaining({
        role: 'orgAdmin',
        organization: expect.objectContaining({ id: first }),
      }),
      expect.objectContaining({
        role: 'orgAdmin',
        organization: expect.objectContaining({ id: second.organization.id, name: 'Second' }),
      }),
    ]);
  });
});

describe('GET /v1/me/memberships', () => {
  type MyMembership = { organization: { id: string }; role: string };
  type MembershipPage = { items: MyMembership[]; nextCursor: string | null };

  /** Every page of the caller's memberships at `limit`, in the order they came. */
  async function walk(person: TestUser, limit: number): Promise<MembershipPage[]> {
    const pages: MembershipPage[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`;
      const res = await h.call(person, 'GET', `/v1/me/memberships?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      const page: MembershipPage = res.json();
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor !== null && pages.length < 50);
    return pages;
  }

  const idsOf = (pages: MembershipPage[]) =>
    pages.flatMap((page) => page.items.map((m) => m.organization.id));

  /** `person` owning two organizations and invited into three of `other`'s: five memberships. */
  async function fiveMemberships(person: TestUser, other: TestUser): Promise<string[]> {
    const joined: string[] = [];
    joined.push(await h.signUp(person));
    for (let i = 0; i < 3; i++) {
      const orgId = await h.signUp(other);
      await h.addMember(orgId, other, i === 0 ? 'organizer' : 'user', person);
      joined.push(orgId);
    }
    joined.push(await h.signUp(person));
    return joined;
  }

  it('walks every membership once, oldest first, in pages of `limit`', async () => {
    const person = await h.user();
    const other = await h.user();
    const joined = await fiveMemberships(person, other);

    const pages = await walk(person, 2);
    expect(pages.map((page) => page.items.length)).toEqual([2, 2, 1]);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    expect(idsOf(pages)).toEqual(joined);
    expect(pages[0]?.items[0]).toMatchObject({ role: 'orgAdmin' });
    expect(pages[0]?.items[1]).toMatchObject({ role: 'organizer' });

    // /v1/me shows the same list while it fits in a page, and says there is nothing more.
    const me = (await h.call(person, 'GET', '/v1/me')).json();
    expect(me.memberships).toEqual(pages.flatMap((page) => page.items));
    expect(me.membershipsNextCursor).toBeNull();
  });

  it('pages through memberships joined at the same instant without duplicates or gaps', async () => {
    const person = await h.user();
    await fiveMemberships(person, await h.user());
    // Same join time for all five: only the organization id orders them.
    await sql`UPDATE organization_users SET created_at = '2026-03-01 10:00:00.123456+00'
              WHERE user_id = ${person.sub}`.execute(h.db);
    const ids = idsOf(await walk(person, 2));
    expect(ids).toHaveLength(5);
    expect(ids).toEqual([...ids].sort());
    expect(idsOf(await walk(person, 1))).toEqual(ids);
  });

  it('shows the first page on /v1/me with a cursor for the rest', async () => {
    const person = await h.user();
    const other = await h.user();
    const owned: string[] = [];
    for (let i = 0; i < ORGANIZATIONS_PER_OWNER; i++) owned.push(await h.signUp(person));
    const invitedTo = await h.signUp(other);
    await h.addMember(invitedTo, other, 'user', person);

    const me = (await h.call(person, 'GET', '/v1/me')).json();
    expect(me.user.id).toBe(person.sub);
    expect(me.memberships.map((m: MyMembership) => m.organization.id)).toEqual(owned);
    expect(me.membershipsNextCursor).toEqual(expect.any(String));
    const rest = await h.call(
      person,
      'GET',
      `/v1/me/memberships?cursor=${me.membershipsNextCursor}`,
    );
    expect(rest.json()).toEqual({
      items: [
        expect.objectContaining({
          role: 'user',
          organization: expect.objectContaining({ id: invitedTo }),
        }),
      ],
      nextCursor: null,
    });
  });

  it("never shows another person's memberships, even with their cursor", async () => {
    const person = await h.user();
    const other = await h.user();
    const joined = await fiveMemberships(person, other);
    const othersOwn = [await h.signUp(other)];

    const mine = idsOf(await walk(person, 2));
    expect(mine).toEqual(joined);
    const theirs = idsOf(await walk(other, 2));
    expect(theirs).toHaveLength(4);
    expect(theirs).toEqual(expect.arrayContaining(othersOwn));
    expect(theirs).not.toContain(joined[0]);
    expect(theirs).not.toContain(joined[4]);

    // A cursor is only a position: the other person walks on through their own list.
    const first = (await h.call(person, 'GET', '/v1/me/memberships?limit=1')).json();
    const borrowed = await h.call(other, 'GET', `/v1/me/memberships?cursor=${first.nextCursor}`);
    expect(borrowed.statusCode).toBe(200);
    for (const item of borrowed.json().items as MyMembership[]) {
      expect(theirs).toContain(item.organization.id);
    }

    const stranger = await h.user();
    expect((await h.call(stranger, 'GET', '/v1/me/memberships')).json()).toEqual({
      items: [],
      nextCursor: null,
    });
    expect((await h.call(undefined, 'GET', '/v1/me/memberships')).statusCode).toBe(401);
  });

  it('answers 400 problem+json to a bad limit or cursor', async () => {
    const person = await h.user();
    await h.signUp(person);
    for (const [query, path] of [
      ['limit=0', 'query.limit'],
      ['limit=101', 'query.limit'],
      ['limit=two', 'query.limit'],
      ['cursor=', 'query.cursor'],
      ['cursor=a%00', 'query.cursor'],
    ]) {
      const res = await h.call(person, 'GET', `/v1/me/memberships?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json(), query).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ path, message: expect.any(String) }],
      });
    }
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const bad of [
      'garbage',
      // Cursors of other lists, and well-formed ones the database could not take.
      cursor({ joinedAt: '2026-01-01 10:00:00+00', userId: person.sub }),
      cursor({ joinedAt: 'x', organizationId: randomUUID() }),
      cursor({ joinedAt: '2026-02-30 10:00:00+00', organizationId: randomUUID() }),
      cursor({ joinedAt: '2026-01-01 10:00:00+00', organizationId: 'not-a-uuid' }),
      cursor({ joinedAt: '2026-01-01 10:00:00+00', organizationId: `${randomUUID()}\u0000` }),
    ]) {
      const res = await h.call(person, 'GET', `/v1/me/memberships?cursor=${bad}`);
      expect(res.statusCode, bad).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe('INVALID_CURSOR');
    }
  });
});

/** Versions of the user_registered announcements of `sub` in the outbox, in order. */
async function announcementsOf(sub: string): Promise<number[]> {
  const { rows } = await sql<{ version: number }>`
    SELECT (payload->'aggregate'->>'version')::int AS version FROM outbox
    WHERE routing_key = 'identity.user_registered' AND payload->'data'->>'userId' = ${sub}
    ORDER BY id`.execute(h.db);
  return rows.map((row) => row.version);
}

describe('Idempotency-Key', () => {
  it('replays a retried sign-up and refuses the key for another request', async () => {
    const owner = await h.user();
    const headers = { 'idempotency-key': `signup-${randomUUID()}` };
    const first = await h.call(owner, 'POST', '/v1/signup', { organizationName: 'Once' }, headers);
    const retry = await h.call(owner, 'POST', '/v1/signup', { organizationName: 'Once' }, headers);
    expect(first.statusCode).toBe(201);
    expect(retry.statusCode).toBe(201);
    expect(retry.json()).toEqual(first.json());
    const other = await h.call(owner, 'POST', '/v1/signup', { organizationName: 'Twice' }, headers);
    expect(other.statusCode).toBe(422);
    const me = (await h.call(owner, 'GET', '/v1/me')).json();
    expect(me.memberships).toHaveLength(1);
  });

  it('answers each create and its replay with the Location of what it created', async () => {
    const owner = await h.user();
    const headers = { 'idempotency-key': `located-${randomUUID()}` };
    const first = await h.call(owner, 'POST', '/v1/signup', { organizationName: 'Here' }, headers);
    const retry = await h.call(owner, 'POST', '/v1/signup', { organizationName: 'Here' }, headers);
    const orgId = first.json().organization.id;
    expect(first.headers.location).toBe(`/v1/orgs/${orgId}`);
    expect(retry.headers.location).toBe(first.headers.location);
    expect((await h.call(owner, 'GET', first.headers.location as string)).statusCode).toBe(200);

    const second = await h.call(owner, 'POST', '/v1/orgs', { name: 'There' });
    expect(second.statusCode).toBe(201);
    expect(second.headers.location).toBe(`/v1/orgs/${second.json().organization.id}`);

    const invited = await h.call(owner, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: 'located@example.test',
      role: 'user',
    });
    expect(invited.statusCode).toBe(201);
    expect(invited.headers.location).toBe(`/v1/orgs/${orgId}/invites/${invited.json().id}`);
    const read = await h.call(owner, 'GET', invited.headers.location as string);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: invited.json().id, status: 'pending' });
    // Another organization's admin finds no such organization there, nor the invite under theirs.
    const stranger = await h.user();
    const theirOrg = await h.signUp(stranger);
    expect((await h.call(stranger, 'GET', invited.headers.location as string)).statusCode).toBe(
      404,
    );
    const underTheirs = `/v1/orgs/${theirOrg}/invites/${invited.json().id}`;
    expect((await h.call(stranger, 'GET', underTheirs)).json()).toMatchObject({
      status: 404,
      code: 'INVITE_NOT_FOUND',
    });
    const revoked = await h.call(owner, 'DELETE', invited.headers.location as string);
    expect(revoked.statusCode).toBe(204);
    expect((await h.call(owner, 'GET', invited.headers.location as string)).json()).toMatchObject({
      status: 'revoked',
    });
  });

  it('replays a stored answer as it was stored, though the answer has gained a field since', async () => {
    const owner = await h.user();
    const key = `signup-${randomUUID()}`;
    const signUp = () =>
      h.call(
        owner,
        'POST',
        '/v1/signup',
        { organizationName: 'Before' },
        { 'idempotency-key': key },
      );
    expect((await signUp()).statusCode).toBe(201);
    // Stored by a release whose membership had no version yet (a key outlives a deploy).
    await sql`UPDATE idempotency_keys SET body = body #- '{membership,version}'
              WHERE key = ${key}`.execute(h.db);
    const replayed = await signUp();
    expect(replayed.statusCode).toBe(201);
    expect(replayed.headers['content-type']).toMatch(/^application\/json/);
    expect(replayed.json().membership).toMatchObject({ userId: owner.sub, role: 'orgAdmin' });
    expect(replayed.json().membership.version).toBeUndefined();
  });

  it('creates nothing when the key cannot be completed with the organization', async () => {
    const owner = await h.user();
    const key = `org-${randomUUID()}`;
    const post = () =>
      h.call(owner, 'POST', '/v1/orgs', { name: 'Atomic' }, { 'idempotency-key': key });
    // Completing this key fails inside Postgres (a crash between the two would do the same).
    const failed = await withFailingWrites(h.db, idempotencyKeyCompletionFails(key), post);
    expect(failed.statusCode).toBe(500);
    expect((await h.call(owner, 'GET', '/v1/me')).json().memberships).toEqual([]);
    const retried = await post();
    expect(retried.statusCode).toBe(201);
    expect((await post()).json()).toEqual(retried.json());
    expect((await h.call(owner, 'GET', '/v1/me')).json().memberships).toHaveLength(1);
  });
});

describe('organization settings', () => {
  it('shows the same organization behind the same ETag while its members come and go', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    const before = await h.call(owner, 'GET', `/v1/orgs/${orgId}`);
    // Invites sent and accepted: events of the organization, no change of what it shows.
    await h.addMember(orgId, owner, 'organizer');
    const invited = await h.call(owner, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: `${randomUUID().slice(0, 8)}@example.test`,
      role: 'user',
    });
    expect(invited.statusCode).toBe(201);
    const after = await h.call(owner, 'GET', `/v1/orgs/${orgId}`);
    expect(after.headers.etag).toBe(before.headers.etag);
    expect(after.json()).toEqual(before.json());
    // A change it shows moves both.
    const renamed = await h.call(
      owner,
      'PATCH',
      `/v1/orgs/${orgId}`,
      { name: 'Renamed' },
      { 'if-match': String(before.headers.etag) },
    );
    expect(renamed.headers.etag).not.toBe(before.headers.etag);
    expect(renamed.json().updatedAt > before.json().updatedAt).toBe(true);
  });

  it('updates with the current If-Match version and answers 412 to a stale one', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    const read = await h.call(owner, 'GET', `/v1/orgs/${orgId}`);
    expect(read.statusCode).toBe(200);
    expect(read.headers.etag).toBe('"1"');

    const patch = { name: 'Renamed', domain: 'Events.Example.com', settings: { locale: 'de' } };
    const updated = await h.call(owner, 'PATCH', `/v1/orgs/${orgId}`, patch, { 'if-match': '"1"' });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({
      name: 'Renamed',
      domain: 'events.example.com',
      settings: { locale: 'de' },
      version: 2,
    });

    const stale = await h.call(
      owner,
      'PATCH',
      `/v1/orgs/${orgId}`,
      { name: 'Again' },
      { 'if-match': '1' },
    );
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('VERSION_MISMATCH');

    const missing = await h.call(owner, 'PATCH', `/v1/orgs/${orgId}`, { name: 'Again' });
    expect(missing.statusCode).toBe(428);

    // Beyond the version column's range (a Postgres integer): no version it can hold.
    for (const ifMatch of ['"2147483648"', '999999999999999']) {
      const beyond = await h.call(
        owner,
        'PATCH',
        `/v1/orgs/${orgId}`,
        { name: 'Again' },
        { 'if-match': ifMatch },
      );
      expect(beyond.statusCode, beyond.body).toBe(412);
      expect(beyond.json()).toMatchObject({ code: 'VERSION_MISMATCH', currentVersion: 2 });
    }

    const audit = (await h.call(owner, 'GET', `/v1/orgs/${orgId}/audit`)).json();
    expect(audit.items[0]).toMatchObject({
      action: 'organization.updated',
      actorId: owner.sub,
      before: { name: expect.any(String), domain: null },
      after: { name: 'Renamed', domain: 'events.example.com' },
    });
  });
});

describe('organization settings nested deep', () => {
  /** `levels` arrays around one string, as JSON text: a value this deep cannot be stringified here either. */
  const nested = (levels: number) => `${'['.repeat(levels)}"bottom"${']'.repeat(levels)}`;

  it('keeps settings nested 30 levels, answers 400 (not 500) for 5,000', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    const patch = (layout: string) =>
      h.call(owner, 'PATCH', `/v1/orgs/${orgId}`, `{"settings":{"layout":${layout}}}`, {
        'if-match': '*',
        'content-type': 'application/json',
      });

    const kept = await patch(nested(30));
    expect(kept.statusCode, kept.body).toBe(200);
    expect(kept.json().settings).toEqual({ layout: JSON.parse(nested(30)) });

    // JSON.stringify (the driver's, the audit's) overflows the call stack a few thousand deep.
    const refused = await patch(nested(5_000));
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: `body.settings.layout${'.0'.repeat(30)}` }],
    });
    expect((await h.call(owner, 'GET', `/v1/orgs/${orgId}`)).json().settings).toEqual({
      layout: JSON.parse(nested(30)),
    });
  });
});

describe('organization settings with If-Match: *', () => {
  it('updates whichever version is current', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    for (const [name, version] of [
      ['Renamed', 2],
      ['Renamed again', 3],
    ] as const) {
      const res = await h.call(owner, 'PATCH', `/v1/orgs/${orgId}`, { name }, { 'if-match': '*' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ name, version });
      expect(res.headers.etag).toBe(`"${version}"`);
    }
  });

  it('answers 404 for an organization that does not exist', async () => {
    const owner = await h.user();
    await h.signUp(owner);
    const res = await h.call(
      owner,
      'PATCH',
      `/v1/orgs/${randomUUID()}`,
      { name: 'Nobody' },
      { 'if-match': '*' },
    );
    expect(res.statusCode, res.body).toBe(404);
  });
});

describe('bad input', () => {
  it('answers 400 with field paths', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/signup', {}, 'body.organizationName'],
      ['POST', '/v1/signup', { organizationName: '   ' }, 'body.organizationName'],
      ['POST', '/v1/orgs', { name: 'x', extra: 1 }, 'body'],
      ['POST', `/v1/orgs/${orgId}/invites`, { email: 'not-an-email', role: 'user' }, 'body.email'],
      [
        'POST',
        `/v1/orgs/${orgId}/invites`,
        { email: 'a@example.test', role: 'owner' },
        'body.role',
      ],
      ['PATCH', `/v1/orgs/${orgId}/members/${owner.sub}`, { role: 'boss' }, 'body.role'],
      ['PATCH', `/v1/orgs/${orgId}`, { domain: 'not a domain' }, 'body.domain'],
      ['GET', '/v1/orgs/not-a-uuid', undefined, 'params.orgId'],
      ['GET', `/v1/orgs/${orgId}/members?limit=1000`, undefined, 'query.limit'],
      // Unknown parameters are refused on every list, each named.
      ['GET', `/v1/orgs/${orgId}/members?limt=5`, undefined, 'query.limt'],
      ['GET', `/v1/orgs/${orgId}/invites?status=pending`, undefined, 'query.status'],
      ['GET', `/v1/orgs/${orgId}/audit?action=x`, undefined, 'query.action'],
      ['GET', '/v1/me/memberships?role=owner', undefined, 'query.role'],
      ['POST', '/v1/invites/accept', { token: '' }, 'body.token'],
    ];
    for (const [method, url, body, path] of cases) {
      const res = await h.call(owner, method as 'POST', url, body, { 'if-match': '1' });
      expect(res.statusCode, `${method} ${url}`).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const paths = (res.json().errors ?? []).map((e: { path: string }) => e.path);
      expect(
        paths.some((p: string) => p.startsWith(path)),
        `${url}: ${paths}`,
      ).toBe(true);
    }
  });

  it('answers 400 to a cursor it did not make', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const url of [
      `/v1/orgs/${orgId}/members?cursor=garbage`,
      // Well-formed cursors whose values the database could not take.
      `/v1/orgs/${orgId}/members?cursor=${cursor({ joinedAt: 'x', userId: 'u' })}`,
      `/v1/orgs/${orgId}/members?cursor=${cursor({ joinedAt: '2026-02-30 10:00:00+00', userId: 'u' })}`,
      `/v1/orgs/${orgId}/invites?cursor=${cursor({ createdAt: 'x', id: randomUUID() })}`,
      `/v1/orgs/${orgId}/audit?cursor=${cursor({ id: '99999999999999999999' })}`,
    ]) {
      const res = await h.call(owner, 'GET', url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('INVALID_CURSOR');
    }
  });
});

describe('NUL characters', () => {
  it('answers 400 naming the field, never a 500 from the database', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/signup', { organizationName: 'Acme\u0000' }, 'body.organizationName'],
      ['POST', '/v1/orgs', { name: '\u0000' }, 'body.name'],
      ['DELETE', `/v1/orgs/${orgId}/members/%00`, undefined, 'params.userId'],
      ['GET', `/v1/orgs/${orgId}/members?cursor=a%00`, undefined, 'query.cursor'],
    ];
    for (const [method, url, body, path] of cases) {
      const res = await h.call(owner, method as 'POST', url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json(), url).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ path, message: expect.any(String) }],
      });
    }
  });

  it('answers 400 INVALID_CURSOR to a cursor holding one', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    const cursor = Buffer.from(
      JSON.stringify({ joinedAt: '2026-01-01 10:00:00+00', userId: 'u\u0000' }),
    ).toString('base64url');
    const res = await h.call(owner, 'GET', `/v1/orgs/${orgId}/members?cursor=${cursor}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_CURSOR');
  });
});

describe('tokens', () => {
  it('answers 401 to a missing, malformed, expired, foreign or wrongly addressed token', async () => {
    const tokens: (string | undefined)[] = [
      undefined,
      'not-a-jwt',
      await h.issuer.token({ expiresIn: -60 }),
      await h.issuer.token({ audience: 'someone-else' }),
      await h.issuer.token({ issuer: 'http://evil.example/realms/happening' }),
    ];
    for (const token of tokens) {
      for (const [method, url] of [
        ['GET', '/v1/me'],
        ['POST', '/v1/signup'],
        ['GET', `/v1/orgs/${randomUUID()}/members`],
        ['POST', '/v1/invites/accept'],
      ] as const) {
        const res = await h.call(token, method, url, method === 'POST' ? {} : undefined);
        expect(res.statusCode, `${method} ${url} with token #${tokens.indexOf(token)}`).toBe(401);
        expect(res.json().code).toBe('UNAUTHENTICATED');
      }
    }
  });

  it('keeps health and metrics open', async () => {
    expect((await h.call(undefined, 'GET', '/healthz')).statusCode).toBe(200);
  });
});

describe('identity-org health', () => {
  it('is ready when Postgres answers, and says which checks ran', async () => {
    const res = await h.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ready', checks: { postgres: 'ok' } });
  });
});
