import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up as bringUpToRules } from '../migrations/20251122000900_departed_owners_and_inviters.ts';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
// The migration, as the migrator runs it: on a database whose tables it does not type.
const migrate = () => bringUpToRules(h.db as unknown as Kysely<unknown>);
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** A role written as the service wrote it before owners handed over and invites followed roles. */
const demoteBehindTheService = (orgId: string, userId: string) =>
  h.db
    .updateTable('organization_users')
    .set({ role: 'organizer' })
    .where('organization_id', '=', orgId)
    .where('user_id', '=', userId)
    .execute();

describe('the migration bringing older rows up to the ownership and invite rules', () => {
  it('hands a demoted owner’s organization over and revokes their live invites, audited without an actor', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    const successor = await h.addMember(orgId, owner, 'orgAdmin');
    const later = await h.addMember(orgId, owner, 'orgAdmin');
    const invited = await h.call(owner, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: `pending-${randomUUID().slice(0, 8)}@example.test`,
      role: 'user',
    });
    const byAdmin = await h.call(later, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: `kept-${randomUUID().slice(0, 8)}@example.test`,
      role: 'user',
    });
    await demoteBehindTheService(orgId, owner.sub);
    const before = await h.call(successor, 'GET', `/v1/orgs/${orgId}`);

    await migrate();

    const org = await h.call(successor, 'GET', `/v1/orgs/${orgId}`);
    expect(org.json().ownerId).toBe(successor.sub);
    expect(org.headers.etag).not.toBe(before.headers.etag);
    const invites = (await h.call(successor, 'GET', `/v1/orgs/${orgId}/invites`)).json().items;
    const statusOf = (id: string) => invites.find((i: { id: string }) => i.id === id)?.status;
    expect(statusOf(invited.json().id)).toBe('revoked');
    expect(statusOf(byAdmin.json().id)).toBe('pending');
    const audit = (await h.call(successor, 'GET', `/v1/orgs/${orgId}/audit?limit=2`)).json().items;
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'organization.updated',
          actorId: null,
          before: { ownerId: owner.sub },
          after: { ownerId: successor.sub },
        }),
        expect.objectContaining({
          action: 'invite.revoked',
          actorId: null,
          entityId: invited.json().id,
        }),
      ]),
    );

    // Run again, it finds nothing left to do.
    await migrate();
    const again = (await h.call(successor, 'GET', `/v1/orgs/${orgId}/audit?limit=2`)).json().items;
    expect(again).toEqual(audit);
  });

  it('leaves organizations whose owner is still their orgAdmin alone', async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    await h.addMember(orgId, owner, 'orgAdmin');
    const before = await h.call(owner, 'GET', `/v1/orgs/${orgId}`);
    await migrate();
    const after = await h.call(owner, 'GET', `/v1/orgs/${orgId}`);
    expect(after.json().ownerId).toBe(owner.sub);
    expect(after.headers.etag).toBe(before.headers.etag);
  });
});
