import { randomUUID } from 'node:crypto';
import { eventually } from '@happening/testkit';
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

type Entry = { id: string; action: string; entityId: string };

/** Invites a new address and puts the invite past its expiry (the sweep has not run since). */
async function lapsedInvite(admin: TestUser, orgId: string): Promise<string> {
  const res = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
    email: `lapsed-${randomUUID().slice(0, 8)}@example.test`,
    role: 'user',
  });
  expect(res.statusCode, res.body).toBe(201);
  const { id } = res.json<{ id: string }>();
  await sql`UPDATE organization_invites SET expires_at = now() - interval '1 minute'
            WHERE id = ${id}`.execute(h.db);
  return id;
}

/** The audit trail as a client walks it with its cursor, one entry a page, newest first. */
async function walkAudit(admin: TestUser, orgId: string): Promise<Entry[]> {
  const seen: Entry[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const res = await h.call(admin, 'GET', `/v1/orgs/${orgId}/audit?limit=1${query}`);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json<{ items: Entry[]; nextCursor: string | null }>();
    seen.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return seen;
}

describe('the expiry sweep and an organization it cannot lock', () => {
  it('leaves that organization to the next sweep and expires the others meanwhile', async () => {
    const [first, second] = [await h.user(), await h.user()];
    const orgs = [
      { admin: first, orgId: await h.signUp(first) },
      { admin: second, orgId: await h.signUp(second) },
    ].sort((a, b) => a.orgId.localeCompare(b.orgId));
    // The one the sweep reaches first is held (a long request, or a stuck one).
    const [held, free] = orgs as [(typeof orgs)[0], (typeof orgs)[0]];
    const heldInvite = await lapsedInvite(held.admin, held.orgId);
    const freeInvite = await lapsedInvite(free.admin, free.orgId);
    const statusOf = async (id: string) =>
      (
        await h.db
          .selectFrom('organization_invites')
          .select('status')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).status;

    await h.db.transaction().execute(async (trx) => {
      await sql`SELECT 1 FROM organizations WHERE id = ${held.orgId} FOR UPDATE`.execute(trx);
      expect(await expirePendingInvites(h.db, { lockTimeoutMs: 200 })).toBe(1);
    });
    expect(await statusOf(freeInvite)).toBe('expired');
    expect(await statusOf(heldInvite)).toBe('pending');

    expect(await expirePendingInvites(h.db)).toBe(1);
    expect(await statusOf(heldInvite)).toBe('expired');
  });
});

describe('the expiry sweep and a client walking the audit trail', () => {
  it('never records an expiry behind a page the client has already read', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const lapsed = await lapsedInvite(admin, orgId);
    const other = await h.user();
    const otherOrg = await h.signUp(other);
    await lapsedInvite(other, otherOrg);

    let sweep: Promise<number> | undefined;
    const walked = await h.db.transaction().execute(async (trx) => {
      // Holds the other organization's row exclusively (as a change of its slug would) so the
      // sweep, which expires both organizations' invites, stops there with its transaction open.
      await sql`SELECT 1 FROM organizations WHERE id = ${otherOrg} FOR UPDATE`.execute(trx);
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
      const holder = rows[0]!.pid;
      sweep = expirePendingInvites(h.db);
      sweep.catch(() => {});
      await eventually(async () => {
        const waiting = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE ${holder} = ANY(pg_blocking_pids(pid))`.execute(h.db);
        return (waiting.rows[0]?.n ?? 0) > 0;
      });
      // Meanwhile the admin does something audited, and a client walks the whole trail.
      const invited = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
        email: `later-${randomUUID().slice(0, 8)}@example.test`,
        role: 'user',
      });
      expect(invited.statusCode, invited.body).toBe(201);
      return walkAudit(admin, orgId);
    });
    expect(await sweep).toBe(2);

    const trail = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/audit?limit=100`)).json<{
      items: Entry[];
    }>().items;
    expect(trail).toContainEqual(
      expect.objectContaining({ action: 'invite.expired', entityId: lapsed }),
    );
    // What committed after the walk comes before its first entry (newest first), where a client
    // looking for news finds it; nothing appeared among the entries it already passed.
    const top = BigInt(walked[0]!.id);
    const passed = trail.filter((entry) => BigInt(entry.id) <= top);
    expect(passed.map((e) => `${e.action} ${e.entityId}`)).toEqual(
      walked.map((e) => `${e.action} ${e.entityId}`),
    );
  });
});
