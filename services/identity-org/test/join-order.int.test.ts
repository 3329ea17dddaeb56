import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestUser } from './harness.ts';
import { holdingOrganization, lockWaiters } from './locks.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

async function invite(admin: TestUser, orgId: string, who: TestUser): Promise<string> {
  const res = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
    email: who.email,
    role: 'user',
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().token;
}

async function createOrg(who: TestUser, name: string): Promise<string> {
  const res = await h.call(who, 'POST', '/v1/orgs', { name });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().organization.id;
}

/**
 * A client walking `/v1/me/memberships` oldest first, one at a time: `read` takes the pages
 * there are now and remembers where it stopped, so a later `read` goes on from there.
 */
function membershipWalker(who: TestUser) {
  const seen: string[] = [];
  let cursor: string | undefined;
  return {
    seen,
    async read(): Promise<void> {
      for (;;) {
        const query = cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const res = await h.call(who, 'GET', `/v1/me/memberships?limit=1${query}`);
        expect(res.statusCode, res.body).toBe(200);
        const page = res.json<{ items: { organization: { id: string } }[]; nextCursor: string }>();
        for (const { organization } of page.items) {
          if (!seen.includes(organization.id)) seen.push(organization.id);
        }
        if (page.nextCursor === null) return;
        cursor = page.nextCursor;
      }
    },
  };
}

/** An organization with an orgAdmin, and x (who has called once) invited to it. */
async function invitedToOrganization() {
  const admin = await h.user();
  const orgA = await h.signUp(admin);
  const x = await h.user();
  await h.call(x, 'GET', '/v1/me');
  return { orgA, x, token: await invite(admin, orgA, x) };
}

describe('a membership that waited for a lock', () => {
  it('is listed after the memberships that committed while it waited, not behind a reader', async () => {
    const { orgA, x, token } = await invitedToOrganization();
    const walker = membershipWalker(x);

    const { accepting, created } = await holdingOrganization(h.db, orgA, async () => {
      // x's accept begins and waits for A while x creates B and D, which commit.
      const accepting = h.call(x, 'POST', '/v1/invites/accept', { token });
      await lockWaiters(h.db, 1);
      const created = [await createOrg(x, 'Org B'), await createOrg(x, 'Org D')];
      // The reader stops after B: its cursor is past B's join time.
      await walker.read();
      return { accepting, created };
    });
    const accepted = await accepting;
    expect(accepted.statusCode, accepted.body).toBe(200);

    await walker.read();
    expect(walker.seen).toEqual([...created, orgA]);
  });

  it('is not overtaken by a creation of the same person while it commits', async () => {
    const { orgA, x, token } = await invitedToOrganization();
    const walker = membershipWalker(x);

    // An uncommitted row of the same membership holds x's accept between its insert and its
    // commit (on the unique key), as a slow commit would.
    const { accepting, creating } = await h.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO organization_users (organization_id, user_id, role)
                VALUES (${orgA}, ${x.sub}, 'user')`.execute(trx);
      const accepting = h.call(x, 'POST', '/v1/invites/accept', { token });
      await lockWaiters(h.db, 1);
      let done = false;
      const creating = (async () => {
        const ids = [await createOrg(x, 'Org B'), await createOrg(x, 'Org D')];
        done = true;
        return ids;
      })();
      // Either both creations commit meanwhile, or they wait for the accept.
      await eventually(async () => {
        if (done) return true;
        const { rows } = await sql<{ n: string }>`
          SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(h.db);
        return Number(rows[0]?.n) >= 2;
      });
      await walker.read();
      await sql`DELETE FROM organization_users
                WHERE organization_id = ${orgA} AND user_id = ${x.sub}`.execute(trx);
      return { accepting, creating };
    });
    const accepted = await accepting;
    expect(accepted.statusCode, accepted.body).toBe(200);
    const created = await creating;

    await walker.read();
    expect(walker.seen.sort()).toEqual([...created, orgA].sort());
  });
});

describe('an invite created while it waits for the organization', () => {
  it('is timed after the lock was released, so it commits in the order the invite list shows', async () => {
    const admin = await h.user();
    const orgA = await h.signUp(admin);
    const guest = await h.user();
    const { creating, releasedAt } = await holdingOrganization(h.db, orgA, async (trx) => {
      const creating = invite(admin, orgA, guest);
      await lockWaiters(h.db, 1);
      const { rows } = await sql<{ at: string }>`SELECT clock_timestamp()::text AS at`.execute(trx);
      return { creating, releasedAt: rows[0]!.at };
    });
    await creating;
    const { rows } = await sql<{ later: boolean }>`
      SELECT created_at > ${releasedAt}::timestamptz AS later FROM organization_invites
      WHERE organization_id = ${orgA} AND lower(email) = lower(${guest.email})`.execute(h.db);
    expect(rows).toEqual([{ later: true }]);
  });
});

describe('an invite accepted while it waits for the organization', () => {
  it('answers 410 when the invite expired during the wait', async () => {
    const admin = await h.user();
    const orgA = await h.signUp(admin);
    const x = await h.user();
    const token = await invite(admin, orgA, x);

    const { accepting } = await holdingOrganization(h.db, orgA, async (trx) => {
      const accepting = h.call(x, 'POST', '/v1/invites/accept', { token });
      await lockWaiters(h.db, 1);
      // The accept was asked for before this moment; the invite expires now, during the wait.
      const { rows } = await sql<{ expires: Date }>`
        UPDATE organization_invites SET expires_at = clock_timestamp()
        WHERE organization_id = ${orgA} AND status = 'pending'
        RETURNING expires_at AS expires`.execute(trx);
      const expires = rows[0]!.expires.getTime();
      await eventually(() => Date.now() > expires);
      // Wrapped: the transaction must not wait for the accept, which waits for it.
      return { accepting };
    });
    const res = await accepting;
    expect(res.statusCode, res.body).toBe(410);
    expect(res.json().code).toBe('INVITE_EXPIRED');
    const membership = await h.db
      .selectFrom('organization_users')
      .select('user_id')
      .where('organization_id', '=', orgA)
      .where('user_id', '=', x.sub)
      .executeTakeFirst();
    expect(membership).toBeUndefined();
  });
});
