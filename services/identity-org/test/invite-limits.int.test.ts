import { randomUUID } from 'node:crypto';
import { indexIn } from '@happening/db/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseNow } from '../src/modules/invites/invite.repository.ts';
import { DB_SCHEMA } from '../src/schema.ts';
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
    const other = await inviteAs(admin, orgId, address('other'));
    expect(other.statusCode).toBe(201);
    expect(other.json().mailed).toBe(true);
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

describe('invites all organizations together may have mailed to one address', () => {
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
      .select(['id', 'organization_id', 'mailed'])
      .where(sql<string>`lower(email)`, '=', email)
      .orderBy('created_at')
      .execute();
  }

  /** Expects 201 and returns the invite's id and whether it is mailed. */
  function created(res: Awaited<ReturnType<Harness['call']>>) {
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(typeof body.mailed).toBe('boolean');
    return { id: body.id as string, mailed: body.mailed as boolean };
  }

  /** The member_invited event published for the invite. */
  const invitedEvent = (inviteId: string) =>
    h.event('identity.member_invited', (e) => e.data.inviteId === inviteId);

  it(`creates invite ${ALL_ORGS + 1} of the day to an address unmailed, whichever organizations sent the others`, async () => {
    // Organizations one person may have come to control by handing each over to another
    // account of theirs: each stays within its own caps.
    const [first, second, third] = await organizations(3);
    const victim = address('flooded');
    for (let i = 0; i < PER_ADDRESS; i++) {
      expect(created(await inviteAs(first!.admin, first!.orgId, victim)).mailed).toBe(true);
    }
    for (let i = PER_ADDRESS; i < ALL_ORGS; i++) {
      const res = await inviteAs(second!.admin, second!.orgId, victim.toUpperCase());
      expect(created(res).mailed).toBe(true);
    }

    // The address's own company, say: its invite is not refused, only not mailed, and its
    // orgAdmin learns nothing of who else invited the address.
    const late = created(await inviteAs(third!.admin, third!.orgId, victim));
    expect(late.mailed).toBe(false);
    expect((await invitedEvent(late.id)).data).toMatchObject({ mailed: false });
    const [entry] = (await h.auditOf(third!.admin, third!.orgId)).filter(
      (e) => e.action === 'invite.created' && e.entityId === late.id,
    );
    expect(entry?.after).toMatchObject({ email: victim, mailed: false });
    // A mailed invite's event says nothing of it, as before.
    const [mailedOne] = await invitesTo(victim);
    expect((await invitedEvent(mailedOne!.id)).data).not.toHaveProperty('mailed');

    // The third organization invites again (a new role, say): created, unmailed, superseding its
    // own unmailed invite.
    expect(created(await inviteAs(third!.admin, third!.orgId, victim)).mailed).toBe(false);
    // Another address is not held back by it.
    const other = address('other');
    expect(created(await inviteAs(third!.admin, third!.orgId, other)).mailed).toBe(true);

    const invites = await invitesTo(victim);
    expect(invites.map((i) => i.mailed)).toEqual([
      ...Array(ALL_ORGS).fill(true),
      ...Array(2).fill(false),
    ]);
    // Its orgAdmin's list says which of its invites no email announced, as does each one's own.
    const listed = await h.call(third!.admin, 'GET', `/v1/orgs/${third!.orgId}/invites`);
    expect(
      (listed.json().items as { email: string; status: string; mailed: boolean }[])
        .map(({ email, status, mailed }) => ({ email, status, mailed }))
        .sort((a, b) => `${a.email}${a.status}`.localeCompare(`${b.email}${b.status}`)),
    ).toEqual(
      [
        { email: victim, status: 'pending', mailed: false },
        { email: victim, status: 'revoked', mailed: false },
        { email: other, status: 'pending', mailed: true },
      ].sort((a, b) => `${a.email}${a.status}`.localeCompare(`${b.email}${b.status}`)),
    );
    const one = await h.call(third!.admin, 'GET', `/v1/orgs/${third!.orgId}/invites/${late.id}`);
    expect(one.json()).toMatchObject({ id: late.id, mailed: false });
    const unmailed = await sql<{ count: string }>`
      SELECT count(*) AS count FROM outbox
      WHERE routing_key = 'identity.member_invited' AND payload->'data'->>'email' = ${victim}
        AND payload->'data'->'mailed' = 'false'::jsonb`.execute(h.db);
    expect(Number(unmailed.rows[0]?.count)).toBe(2);
  });

  it('keeps a pending invite the address was mailed rather than replace it with one that cannot be', async () => {
    const [own, other] = await organizations(2);
    const invitee = address('resent');
    const first = created(await inviteAs(own!.admin, own!.orgId, invitee));
    expect(first.mailed).toBe(true);
    // Another organization takes the rest of the address's mail for the day.
    for (let i = 1; i < ALL_ORGS; i++) {
      expect(created(await inviteAs(other!.admin, other!.orgId, invitee)).mailed).toBe(true);
    }
    // Sending again would revoke the link the address holds for one never mailed.
    const again = await inviteAs(own!.admin, own!.orgId, invitee);
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json()).toMatchObject({ code: 'MAILED_INVITE_PENDING' });
    expect(again.headers['retry-after']).toBeUndefined();
    const [kept] = await h.db
      .selectFrom('organization_invites')
      .select('status')
      .where('id', '=', first.id)
      .execute();
    expect(kept?.status).toBe('pending');
    // Revoked by the orgAdmin, it can be replaced by one that is not mailed.
    const revoked = await h.call(
      own!.admin,
      'DELETE',
      `/v1/orgs/${own!.orgId}/invites/${first.id}`,
    );
    expect(revoked.statusCode).toBe(204);
    expect(created(await inviteAs(own!.admin, own!.orgId, invitee)).mailed).toBe(false);
  });

  it("still refuses once the organization's own caps are full, unmailed invites counted", async () => {
    const orgs = await organizations(ALL_ORGS + 1);
    const guest = address('own-cap');
    for (const { admin, orgId } of orgs.slice(0, ALL_ORGS)) {
      expect(created(await inviteAs(admin, orgId, guest)).mailed).toBe(true);
    }
    const late = orgs[ALL_ORGS]!;
    for (let i = 0; i < PER_ADDRESS; i++) {
      expect(created(await inviteAs(late.admin, late.orgId, guest)).mailed).toBe(false);
    }
    const refused = await expectLimitedUntilOldestLeaves(
      () => inviteAs(late.admin, late.orgId, guest),
      { orgId: late.orgId, email: guest },
    );
    expect(refused.json().detail).toBe(
      'This organization has invited this address as often as it may in 24 hours.',
    );
  });

  it('mails again once the oldest mailed invite of the day leaves the window, unmailed ones not counted', async () => {
    const orgs = await organizations(ALL_ORGS + 2);
    const guest = address('guest');
    for (const { admin, orgId } of orgs.slice(0, ALL_ORGS)) {
      expect(created(await inviteAs(admin, orgId, guest)).mailed).toBe(true);
    }
    const late = orgs[ALL_ORGS]!;
    // Newer than every mailed one: were they counted, they would hold the cap full a day longer.
    for (let i = 0; i < 2; i++) {
      expect(created(await inviteAs(late.admin, late.orgId, guest)).mailed).toBe(false);
    }
    const [oldest] = await invitesTo(guest);

    await sql`UPDATE organization_invites SET created_at = now() - interval '23 hours'
              WHERE id = ${oldest!.id}`.execute(h.db);
    expect(created(await inviteAs(late.admin, late.orgId, guest)).mailed).toBe(false);

    await sql`UPDATE organization_invites SET created_at = now() - interval '24 hours 1 second'
              WHERE id = ${oldest!.id}`.execute(h.db);
    const again = created(await inviteAs(orgs[2]!.admin, orgs[2]!.orgId, guest));
    expect(again.mailed).toBe(true);
    expect((await invitedEvent(again.id)).data).not.toHaveProperty('mailed');
    const another = orgs[ALL_ORGS + 1]!;
    expect(created(await inviteAs(another.admin, another.orgId, guest)).mailed).toBe(false);
  });

  it(`mails exactly ${ALL_ORGS} of concurrent invites from as many organizations and more, and creates them all`, async () => {
    const orgs = await organizations(ALL_ORGS + 3);
    const guest = address('rush');
    const answers = await Promise.all(
      orgs.map(({ admin, orgId }) => inviteAs(admin, orgId, guest)),
    );
    const mailed = answers.map((res) => created(res).mailed).sort();
    expect(mailed).toEqual([...Array(3).fill(false), ...Array(ALL_ORGS).fill(true)]);
    const invites = await invitesTo(guest);
    expect(invites).toHaveLength(ALL_ORGS + 3);
    expect(invites.filter((i) => i.mailed)).toHaveLength(ALL_ORGS);
  });

  it('counts mailed invites through an index of mailed invites only', async () => {
    // However many unmailed invites organizations create to an address, the count never reads them.
    const untyped = () => h.db as unknown as Kysely<unknown>;
    expect(await indexIn(untyped(), DB_SCHEMA, 'organization_invites_mailed_address_idx')).toEqual([
      {
        definition:
          'CREATE INDEX organization_invites_mailed_address_idx ON organization_invites USING btree (lower(email), created_at) WHERE mailed',
        valid: true,
      },
    ]);
    // The count's query (recentInviteTimes) reads it rather than the full index of every invite,
    // which the release before counted through. The table is small here: no sequential scan.
    const plan = await h.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      const { rows } = await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN SELECT created_at FROM organization_invites
        WHERE lower(email) = ${address('plan')} AND mailed AND created_at > now() - interval '1 day'
        ORDER BY created_at DESC LIMIT ${ALL_ORGS}`.execute(trx);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('organization_invites_mailed_address_idx');
    // The full index stays while the release before, which counts through it, may still run.
    expect(await indexIn(untyped(), DB_SCHEMA, 'organization_invites_address_idx')).toEqual([
      expect.objectContaining({ valid: true }),
    ]);
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
