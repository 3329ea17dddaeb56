import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestUser } from './harness.ts';

let h: Harness;
let adminA: TestUser;
let orgA: string;
let adminB: TestUser;
let orgB: string;
let memberB: TestUser;
let inviteB: string;

beforeAll(async () => {
  h = await startHarness();
  adminA = await h.user();
  orgA = await h.signUp(adminA, 'Tenant A');
  adminB = await h.user();
  orgB = await h.signUp(adminB, 'Tenant B Secret Name');
  memberB = await h.addMember(orgB, adminB, 'user');
  const invited = await h.call(adminB, 'POST', `/v1/orgs/${orgB}/invites`, {
    email: 'pending-b@example.test',
    role: 'organizer',
  });
  inviteB = invited.json().id;
});
afterAll(async () => {
  await h?.stop();
});

type Route = [method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown];

// A caller turned away learns nothing from its If-Match, whether a version or *.
const IF_MATCHES = ['1', '*'];

/** Every org-scoped route, for the organization `org`. */
function orgRoutes(org: string, someUser: string, someInvite: string): Route[] {
  return [
    ['GET', `/v1/orgs/${org}`],
    ['PATCH', `/v1/orgs/${org}`, { name: 'Hijacked' }],
    ['GET', `/v1/orgs/${org}/members`],
    ['PATCH', `/v1/orgs/${org}/members/${someUser}`, { role: 'orgAdmin' }],
    ['DELETE', `/v1/orgs/${org}/members/${someUser}`],
    ['POST', `/v1/orgs/${org}/invites`, { email: 'intruder@example.test', role: 'orgAdmin' }],
    ['GET', `/v1/orgs/${org}/invites`],
    ['DELETE', `/v1/orgs/${org}/invites/${someInvite}`],
    ['GET', `/v1/orgs/${org}/audit`],
  ];
}

describe('tenant isolation', () => {
  it('answers 404 to a member of org A on every route of org B, with none of B’s data', async () => {
    for (const [method, url, body] of orgRoutes(orgB, memberB.sub, inviteB)) {
      for (const ifMatch of IF_MATCHES) {
        const res = await h.call(adminA, method, url, body, { 'if-match': ifMatch });
        expect(res.statusCode, `${method} ${url} If-Match: ${ifMatch}`).toBe(404);
        // The code catalog and notification answer for the same refusal.
        expect(res.json().code, `${method} ${url}`).toBe('ORGANIZATION_NOT_FOUND');
        expect(res.body).not.toContain('Tenant B');
        expect(res.body).not.toContain(memberB.sub);
        expect(res.body).not.toContain(adminB.sub);
      }
    }
    const org = (await h.call(adminB, 'GET', `/v1/orgs/${orgB}`)).json();
    expect(org).toMatchObject({ name: 'Tenant B Secret Name', version: 1 });
    const members = (await h.call(adminB, 'GET', `/v1/orgs/${orgB}/members`)).json().items;
    expect(members).toHaveLength(2);
    const invites = (await h.call(adminB, 'GET', `/v1/orgs/${orgB}/invites`)).json().items;
    expect(invites.find((i: { id: string }) => i.id === inviteB)?.status).toBe('pending');
  });

  it('answers 404 when org B’s ids are sent under org A', async () => {
    const routes: Route[] = [
      ['PATCH', `/v1/orgs/${orgA}/members/${memberB.sub}`, { role: 'organizer' }],
      ['DELETE', `/v1/orgs/${orgA}/members/${memberB.sub}`],
      ['DELETE', `/v1/orgs/${orgA}/invites/${inviteB}`],
    ];
    for (const [method, url, body] of routes) {
      // A PATCH sends a version or *, so what answers is the membership lookup.
      for (const ifMatch of method === 'PATCH' ? ['"1"', '*'] : [undefined]) {
        const headers = ifMatch === undefined ? undefined : { 'if-match': ifMatch };
        const res = await h.call(adminA, method, url, body, headers);
        expect(res.statusCode, `${method} ${url} If-Match: ${ifMatch}`).toBe(404);
      }
    }
    const invites = (await h.call(adminB, 'GET', `/v1/orgs/${orgB}/invites`)).json().items;
    expect(invites.find((i: { id: string }) => i.id === inviteB)?.status).toBe('pending');
  });

  it('answers 404 for an organization that does not exist', async () => {
    const res = await h.call(adminA, 'GET', '/v1/orgs/00000000-0000-4000-8000-000000000000');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('ORGANIZATION_NOT_FOUND');
  });
});

describe('roles', () => {
  it('answers 403 to organizers and users on every orgAdmin route', async () => {
    const organizer = await h.addMember(orgA, adminA, 'organizer');
    const plain = await h.addMember(orgA, adminA, 'user');
    const invite = await h.call(adminA, 'POST', `/v1/orgs/${orgA}/invites`, {
      email: 'someone@example.test',
      role: 'user',
    });
    const adminOnly = orgRoutes(orgA, adminA.sub, invite.json().id).filter(
      ([method, url]) => !(method === 'GET' && /\/(members)?$/.test(url.replace(orgA, ''))),
    );
    expect(adminOnly).toHaveLength(7);
    for (const caller of [organizer, plain]) {
      for (const [method, url, body] of adminOnly) {
        for (const ifMatch of IF_MATCHES) {
          const res = await h.call(caller, method, url, body, { 'if-match': ifMatch });
          expect(res.statusCode, `${method} ${url} If-Match: ${ifMatch}`).toBe(403);
          expect(res.json().code).toBe('FORBIDDEN');
        }
      }
      expect((await h.call(caller, 'GET', `/v1/orgs/${orgA}`)).statusCode).toBe(200);
      expect((await h.call(caller, 'GET', `/v1/orgs/${orgA}/members`)).statusCode).toBe(200);
    }
  });
});

describe('pagination', () => {
  it('pages through members and the audit log without gaps or repeats', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const added: TestUser[] = [];
    for (let i = 0; i < 4; i++) added.push(await h.addMember(orgId, admin, 'user'));

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/members${query}`)).json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((m: { userId: string }) => m.userId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([admin.sub, ...added.map((u) => u.sub)]);

    const actions: string[] = [];
    cursor = null;
    do {
      const query: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3';
      const page = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/audit${query}`)).json();
      actions.push(...page.items.map((a: { id: string }) => a.id));
      cursor = page.nextCursor;
    } while (cursor);
    // sign-up (2 entries) + per member: invite.created, invite.accepted, member.joined
    expect(actions).toHaveLength(2 + 4 * 3);
    expect(new Set(actions).size).toBe(actions.length);
    expect([...actions].sort((x, y) => Number(y) - Number(x))).toEqual(actions);
  });

  it('pages through invites newest first', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
        email: `page-${i}@example.test`,
        role: 'user',
      });
      ids.push(res.json().id);
    }
    const first = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites?limit=2`)).json();
    const second = (
      await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites?limit=2&cursor=${first.nextCursor}`)
    ).json();
    expect([...first.items, ...second.items].map((i: { id: string }) => i.id)).toEqual(
      ids.reverse(),
    );
    expect(second.nextCursor).toBeNull();
  });
});

describe('audit log', () => {
  it('refuses to change or delete its rows', async () => {
    await expect(
      h.db
        .updateTable('audit_log')
        .set({ action: 'tampered' })
        .where('organization_id', '=', orgA)
        .execute(),
    ).rejects.toThrow(/append-only/);
    await expect(
      h.db.deleteFrom('audit_log').where('organization_id', '=', orgA).execute(),
    ).rejects.toThrow(/append-only/);
  });

  it('records who did what under which request', async () => {
    const guest = await h.user();
    await h.call(
      adminA,
      'POST',
      `/v1/orgs/${orgA}/invites`,
      { email: guest.email, role: 'organizer' },
      { 'x-request-id': 'audit-check-1' },
    );
    const page = (await h.call(adminA, 'GET', `/v1/orgs/${orgA}/audit?limit=1`)).json();
    expect(page.items[0]).toMatchObject({
      action: 'invite.created',
      actorId: adminA.sub,
      entityType: 'invite',
      before: null,
      after: { email: guest.email, role: 'organizer' },
      requestId: 'audit-check-1',
    });
  });
});
