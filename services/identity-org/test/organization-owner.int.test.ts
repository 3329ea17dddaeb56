import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  ORGANIZATIONS_PER_OWNER as LIMIT,
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

/**
 * An owner at their organization limit, whose first organization has three orgAdmins besides
 * them: `early` joined first as a user and was made orgAdmin last, so `successor` (orgAdmin
 * since joining, before `later`) has held the role longest.
 */
async function ownerAtTheLimit() {
  const owner = await h.user();
  const orgId = await h.signUp(owner);
  for (let i = 2; i <= LIMIT; i++) {
    const res = await h.call(owner, 'POST', '/v1/orgs', { name: `Owned ${i}` });
    expect(res.statusCode).toBe(201);
  }
  const early = await h.addMember(orgId, owner, 'user');
  const successor = await h.addMember(orgId, owner, 'orgAdmin');
  const later = await h.addMember(orgId, owner, 'orgAdmin');
  const promoted = await h.call(
    owner,
    'PATCH',
    `/v1/orgs/${orgId}/members/${early.sub}`,
    { role: 'orgAdmin' },
    { 'if-match': '*' },
  );
  expect(promoted.statusCode).toBe(200);
  const refused = await h.call(owner, 'POST', '/v1/orgs', { name: 'One too many' });
  expect(refused.json().code).toBe('ORGANIZATION_LIMIT');
  return { owner, orgId, early, successor, later };
}

/**
 * Asserts that `from` no longer owns the organization and `to` does, as GET shows it and as the
 * audit records it (by `actor`), and that `from` may create an organization again.
 */
async function expectHandedOver(
  orgId: string,
  from: TestUser,
  to: TestUser,
  actor: TestUser,
  versionBefore: number,
) {
  const created = await h.call(from, 'POST', '/v1/orgs', { name: 'After hand-over' });
  expect(created.statusCode, created.body).toBe(201);

  const org = await h.call(to, 'GET', `/v1/orgs/${orgId}`);
  expect(org.statusCode).toBe(200);
  expect(org.json().ownerId).toBe(to.sub);
  // The organization as read has changed: its version (and ETag) moves.
  expect(org.json().version).toBe(versionBefore + 1);
  expect(org.headers.etag).toBe(`"${versionBefore + 1}"`);

  const handOvers = (await h.auditOf(to, orgId)).filter((a) => a.action === 'organization.updated');
  expect(handOvers).toEqual([
    expect.objectContaining({
      actorId: actor.sub,
      entityType: 'organization',
      entityId: orgId,
      before: { ownerId: from.sub },
      after: { ownerId: to.sub },
    }),
  ]);
}

async function versionOf(orgId: string): Promise<number> {
  const { version } = await h.db
    .selectFrom('organizations')
    .select('version')
    .where('id', '=', orgId)
    .executeTakeFirstOrThrow();
  return version;
}

describe('an organization whose owner goes', () => {
  it('passes to the longest-serving orgAdmin when the owner leaves, freeing the owner’s limit', async () => {
    const { owner, orgId, successor } = await ownerAtTheLimit();
    const version = await versionOf(orgId);
    const left = await h.call(owner, 'DELETE', `/v1/orgs/${orgId}/members/${owner.sub}`);
    expect(left.statusCode).toBe(204);
    await expectHandedOver(orgId, owner, successor, owner, version);
  });

  it('passes to the longest-serving orgAdmin when another admin removes the owner', async () => {
    const { owner, orgId, successor, later } = await ownerAtTheLimit();
    const version = await versionOf(orgId);
    const removed = await h.call(later, 'DELETE', `/v1/orgs/${orgId}/members/${owner.sub}`);
    expect(removed.statusCode).toBe(204);
    await expectHandedOver(orgId, owner, successor, later, version);
  });

  it('passes on when the owner is demoted from orgAdmin, too', async () => {
    const { owner, orgId, successor, later } = await ownerAtTheLimit();
    const version = await versionOf(orgId);
    const demoted = await h.call(
      later,
      'PATCH',
      `/v1/orgs/${orgId}/members/${owner.sub}`,
      { role: 'organizer' },
      { 'if-match': '*' },
    );
    expect(demoted.statusCode).toBe(200);
    await expectHandedOver(orgId, owner, successor, later, version);
  });

  it('stays with the owner when other orgAdmins leave or are removed', async () => {
    const { owner, orgId, successor, later } = await ownerAtTheLimit();
    expect(
      (await h.call(owner, 'DELETE', `/v1/orgs/${orgId}/members/${successor.sub}`)).statusCode,
    ).toBe(204);
    expect(
      (await h.call(later, 'DELETE', `/v1/orgs/${orgId}/members/${later.sub}`)).statusCode,
    ).toBe(204);
    const org = await h.call(owner, 'GET', `/v1/orgs/${orgId}`);
    expect(org.json().ownerId).toBe(owner.sub);
    const audit = await h.auditOf(owner, orgId);
    expect(audit.filter((a) => a.action === 'organization.updated')).toEqual([]);
    const refused = await h.call(owner, 'POST', '/v1/orgs', { name: 'Still too many' });
    expect(refused.json().code).toBe('ORGANIZATION_LIMIT');
  });
});
