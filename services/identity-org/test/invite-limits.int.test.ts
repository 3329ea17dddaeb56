import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseNow } from '../src/modules/invites/invite.repository.ts';
import {
  type Harness,
  INVITES_PER_ADDRESS_PER_DAY as PER_ADDRESS,
  startHarness,
} from './harness.ts';

/** A small organization-wide cap, so reaching it takes a few invites. */
const PER_ORG = 6;
/** A small cap over all organizations, above the per-organization one for an address. */
const ALL_ORGS = 4;
const DAY_SECONDS = 24 * 3600;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    invitesPerOrgPerDay: PER_ORG,
    invitesPerAddressPerDayAllOrgs: ALL_ORGS,
  });
});
afterAll(async () => {
  await h?.stop();
});

const address = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;

async function inviteAs(admin: Awaited<ReturnType<Harness['user']>>, orgId: string, email: string) {
  return h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, { email, role: 'user' });
}

function expectLimited(res: Awaited<ReturnType<Harness['call']>>) {
  expect(res.statusCode, res.body).toBe(429);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(DAY_SECONDS);
  expect(res.json()).toMatchObject({
    status: 429,
    code: 'INVITE_LIMIT',
    retryAfterSeconds: retryAfter,
  });
  return retryAfter;
}

/** The database's clock, which dates invites and judges the caps. */
const databaseTime = async () => (await databaseNow(h.db)).getTime();

/**
 * Sends `send`, expecting 429 INVITE_LIMIT whose Retry-After is the wait, on the database's clock
 * around the request, until the oldest invite of `scope` (the one that makes room) is a day old.
 */
async function expectLimitedUntilOldestLeaves(
  send: () => ReturnType<Harness['call']>,
  scope: { orgId?: string; email?: string },
) {
  let oldest = h.db
    .selectFrom('organization_invites')
    .select((eb) => eb.fn.min('created_at').as('at'));
  if (scope.orgId) oldest = oldest.where('organization_id', '=', scope.orgId);
  if (scope.email) oldest = oldest.where(sql`lower(email)`, '=', scope.email.toLowerCase());
  const { at } = await oldest.executeTakeFirstOrThrow();
  // Postgres keeps microseconds, a Date milliseconds: a millisecond more rather than less.
  const freesAt = new Date(at as Date).getTime() + 1 + DAY_SECONDS * 1000;
  const before = await databaseTime();
  const res = await send();
  const after = await databaseTime();
  const retryAfter = expectLimited(res);
  expect(retryAfter).toBeGreaterThanOrEqual(Math.floor((freesAt - 1 - after) / 1000));
  expect(retryAfter).toBeLessThanOrEqual(Math.ceil((freesAt - before) / 1000));
  return res;
}

describe('invites one organization may send to one address', () => {
  it(`refuses invite ${PER_ADDRESS + 1} to an address within a day with 429 INVITE_LIMIT and Retry-After`, async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const victim = address('victim');
    for (let i = 0; i < PER_ADDRESS; i++) {
      // Each supersedes (revokes) the one before: revoked invites were mailed all the same.
      expect(
        (await inviteAs(admin, orgId, i === 1 ? victim.toUpperCase() : victim)).statusCode,
      ).toBe(201);
    }
    // The oldest was created a moment ago: it leaves the window in about a day.
    await expectLimitedUntilOldestLeaves(() => inviteAs(admin, orgId, victim), {
      orgId,
      email: victim,
    });
    // The address is compared as invites store it, whatever its case.
    expectLimited(await inviteAs(admin, orgId, victim.toUpperCase()));

    const invites = await h.db
      .selectFrom('organization_invites')
      .select('status')
      .where('organization_id', '=', orgId)
      .where('email', '=', victim)
      .execute();
    expect(invites.map((i) => i.status).sort()).toEqual(['pending', 'revoked', 'revoked']);
    // Written with the invite, in its transaction: the refused ones published nothing.
    const announced = await sql<{ count: string }>`
      SELECT count(*) AS count FROM outbox
      WHERE routing_key = 'identity.member_invited' AND payload->'data'->>'email' = ${victim}`.execute(
      h.db,
    );
    expect(Number(announced.rows[0]?.count)).toBe(PER_ADDRESS);

    // Another address of the same organization, and another organization inviting the victim.
    expect((await inviteAs(admin, orgId, address('other'))).statusCode).toBe(201);
    const otherAdmin = await h.user();
    const otherOrg = await h.signUp(otherAdmin);
    expect((await inviteAs(otherAdmin, otherOrg, victim)).statusCode).toBe(201);
  });

  it('counts invites whatever became of them, and lets one through once the oldest leaves the day', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = address('guest');
    const ids: string[] = [];
    for (let i = 0; i < PER_ADDRESS; i++) {
      const res = await inviteAs(admin, orgId, guest);
      expect(res.statusCode).toBe(201);
      ids.push(res.json().id);
    }
    // Revoking the live one frees nothing: it was mailed.
    const revoked = await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/invites/${ids.at(-1)}`);
    expect(revoked.statusCode).toBe(204);
    expectLimited(await inviteAs(admin, orgId, guest));

    // The oldest was sent 23 hours ago: an hour until it leaves the window.
    await sql`UPDATE organization_invites SET created_at = now() - interval '23 hours'
              WHERE id = ${ids[0]!}`.execute(h.db);
    await expectLimitedUntilOldestLeaves(() => inviteAs(admin, orgId, guest), {
      orgId,
      email: guest,
    });

    // Once it is more than a day old, the address may be invited again (once).
    await sql`UPDATE organization_invites SET created_at = now() - interval '24 hours 1 second'
              WHERE id = ${ids[0]!}`.execute(h.db);
    expect((await inviteAs(admin, orgId, guest)).statusCode).toBe(201);
    expectLimited(await inviteAs(admin, orgId, guest));
  });

  it(`lets exactly ${PER_ADDRESS} of many concurrent invites to one address through`, async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = address('race');
    const answers = await Promise.all(
      Array.from({ length: PER_ADDRESS * 2 }, () => inviteAs(admin, orgId, guest)),
    );
    const statuses = answers.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([...Array(PER_ADDRESS).fill(201), ...Array(PER_ADDRESS).fill(429)]);
    for (const res of answers.filter((r) => r.statusCode === 429)) expectLimited(res);
    const created = await h.db
      .selectFrom('organization_invites')
      .select('id')
      .where('organization_id', '=', orgId)
      .execute();
    expect(created).toHaveLength(PER_ADDRESS);
  });
});

describe('invites all organizations together may send to one address', () => {
  /** `count` organizations, each with an orgAdmin of its own. */
  async function organizations(count: number) {
    const orgs: { admin: Awaited<ReturnType<Harness['user']>>; orgId: string }[] = [];
    for (let i = 0; i < count; i++) {
      const admin = await h.user();
      orgs.push({ admin, orgId: await h.signUp(admin) });
    }
    return orgs;
  }

  async function invitesTo(email: string) {
    return h.db
      .selectFrom('organization_invites')
      .select(['id', 'organization_id'])
      .where(sql<string>`lower(email)`, '=', email)
      .orderBy('created_at')
      .execute();
  }

  it(`refuses invite ${ALL_ORGS + 1} of the day to an address, whichever organizations sent it`, async () => {
    // Organizations one person may have come to control by handing each over to another
    // account of theirs: each stays within its own caps.
    const [first, second, third] = await organizations(3);
    const victim = address('flooded');
    for (let i = 0; i < PER_ADDRESS; i++) {
      expect((await inviteAs(first!.admin, first!.orgId, victim)).statusCode).toBe(201);
    }
    for (let i = PER_ADDRESS; i < ALL_ORGS; i++) {
      const res = await inviteAs(second!.admin, second!.orgId, victim.toUpperCase());
      expect(res.statusCode).toBe(201);
    }

    const refused = await expectLimitedUntilOldestLeaves(
      () => inviteAs(third!.admin, third!.orgId, victim),
      { email: victim },
    );
    expect(refused.json().detail).toBe(
      'This address has been sent as many invites as it may in 24 hours.',
    );
    // The second organization has room of its own for the address, but not the address.
    expectLimited(await inviteAs(second!.admin, second!.orgId, victim));
    // Another address is not held back by it.
    expect((await inviteAs(third!.admin, third!.orgId, address('other'))).statusCode).toBe(201);

    expect(await invitesTo(victim)).toHaveLength(ALL_ORGS);
    const announced = await sql<{ count: string }>`
      SELECT count(*) AS count FROM outbox
      WHERE routing_key = 'identity.member_invited' AND payload->'data'->>'email' = ${victim}`.execute(
      h.db,
    );
    expect(Number(announced.rows[0]?.count)).toBe(ALL_ORGS);
  });

  it('lets one through once the oldest of the day, of any organization, leaves the window', async () => {
    const orgs = await organizations(ALL_ORGS + 1);
    const guest = address('guest');
    for (const { admin, orgId } of orgs.slice(0, ALL_ORGS)) {
      expect((await inviteAs(admin, orgId, guest)).statusCode).toBe(201);
    }
    const late = orgs[ALL_ORGS]!;
    const [oldest] = await invitesTo(guest);

    await sql`UPDATE organization_invites SET created_at = now() - interval '23 hours'
              WHERE id = ${oldest!.id}`.execute(h.db);
    await expectLimitedUntilOldestLeaves(() => inviteAs(late.admin, late.orgId, guest), {
      email: guest,
    });

    await sql`UPDATE organization_invites SET created_at = now() - interval '24 hours 1 second'
              WHERE id = ${oldest!.id}`.execute(h.db);
    expect((await inviteAs(late.admin, late.orgId, guest)).statusCode).toBe(201);
    expectLimited(await inviteAs(orgs[0]!.admin, orgs[0]!.orgId, guest));
  });

  it(`lets exactly ${ALL_ORGS} of concurrent invites from as many organizations and more through`, async () => {
    const orgs = await organizations(ALL_ORGS + 3);
    const guest = address('rush');
    const answers = await Promise.all(
      orgs.map(({ admin, orgId }) => inviteAs(admin, orgId, guest)),
    );
    const statuses = answers.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([...Array(ALL_ORGS).fill(201), ...Array(3).fill(429)]);
    for (const res of answers.filter((r) => r.statusCode === 429)) expectLimited(res);
    expect(await invitesTo(guest)).toHaveLength(ALL_ORGS);
  });
});

describe('invites one organization may send in all', () => {
  it(`refuses invite ${PER_ORG + 1} of the day, to any address, with 429 INVITE_LIMIT`, async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    for (let i = 0; i < PER_ORG; i++) {
      expect((await inviteAs(admin, orgId, address(`guest${i}`))).statusCode).toBe(201);
    }
    await expectLimitedUntilOldestLeaves(() => inviteAs(admin, orgId, address('one-more')), {
      orgId,
    });
    expect(
      (await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites?limit=100`)).json().items,
    ).toHaveLength(PER_ORG);

    // Another organization is not held back by it.
    const otherAdmin = await h.user();
    const otherOrg = await h.signUp(otherAdmin);
    expect((await inviteAs(otherAdmin, otherOrg, address('elsewhere'))).statusCode).toBe(201);
  });

  it(`lets exactly ${PER_ORG} of many concurrent invites to different addresses through`, async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const answers = await Promise.all(
      Array.from({ length: PER_ORG + 4 }, (_, i) => inviteAs(admin, orgId, address(`rush${i}`))),
    );
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(PER_ORG);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
  });
});
