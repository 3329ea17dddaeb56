import { withTransaction } from '@happening/db';
import { assertVersion, DomainError, type ExpectedVersion } from '@happening/service-kit';
import type { Actor } from '../../shared/actor.ts';
import { type Db, isUniqueViolation, type Trx } from '../../shared/database.ts';
import { emitOrgEvents } from '../../shared/org-events.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { lockAsOrgAdmin, lockJoinsOf } from '../members/member.lock.ts';
import { insertMembership, type Membership } from '../members/member.repository.ts';
import {
  insertOrganization,
  lockSlugsOf,
  type Organization,
  type OrganizationChanges,
  takenSlugs,
  updateOrganization,
} from './organization.repository.ts';
import { firstFreeSlug, slugify } from './slug.policy.ts';

/**
 * Creations whose slugs may meet are serialised (`lockSlugsOf`), so each reads the slugs the one
 * before it took. An instance that does not take that lock yet (during a deployment) can still
 * pick a slug another takes at once: the loser tries again with the next free one.
 */
const SLUG_ATTEMPTS = 5;

/**
 * Creates an organization with `actor` as its first orgAdmin and owner, unless they already own
 * `maxOwned` (409 `ORGANIZATION_LIMIT`): one person's creations (and joins) are serialised on a
 * lock of their own, so concurrent sign-ups cannot pass the limit together.
 */
export async function createOrganization(
  db: Db,
  actor: Actor,
  name: string,
  maxOwned: number,
  /** Runs in the creating transaction with what it created (the idempotency key's answer). */
  beforeCommit?: (
    trx: Trx,
    created: { organization: Organization; membership: Membership },
  ) => Promise<void>,
): Promise<{ organization: Organization; membership: Membership }> {
  const base = slugify(name);
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(db, async (trx) => {
        await lockJoinsOf(trx, actor.userId);
        const { owned } = await trx
          .selectFrom('organizations')
          .select((eb) => eb.fn.countAll<string>().as('owned'))
          .where('owner_id', '=', actor.userId)
          .executeTakeFirstOrThrow();
        if (Number(owned) >= maxOwned) {
          throw new DomainError(
            'ORGANIZATION_LIMIT',
            409,
            `You own ${owned} organizations, the most one person may own.`,
          );
        }
        await lockSlugsOf(trx, base);
        const slug = firstFreeSlug(base, await takenSlugs(trx, base));
        const organization = await insertOrganization(trx, { name, slug, ownerId: actor.userId });
        const membership = await insertMembership(trx, {
          organizationId: organization.id,
          userId: actor.userId,
          role: 'orgAdmin',
        });
        await appendAudit(trx, [
          {
            organizationId: organization.id,
            actorId: actor.userId,
            action: 'organization.created',
            entityType: 'organization',
            entityId: organization.id,
            before: null,
            after: { name, slug, ownerId: actor.userId },
            requestId: actor.requestId,
          },
          {
            organizationId: organization.id,
            actorId: actor.userId,
            action: 'member.joined',
            entityType: 'membership',
            entityId: actor.userId,
            before: null,
            after: { role: 'orgAdmin' },
            requestId: actor.requestId,
          },
        ]);
        await emitOrgEvents(trx, organization.id, actor.requestId, [
          {
            type: 'identity.organization_created',
            data: { organizationId: organization.id, name, slug, ownerId: actor.userId },
          },
          {
            type: 'identity.member_joined',
            data: { organizationId: organization.id, userId: actor.userId, role: 'orgAdmin' },
          },
        ]);
        await beforeCommit?.(trx, { organization, membership });
        return { organization, membership };
      });
    } catch (error) {
      if (!isUniqueViolation(error, 'organizations_slug_key') || attempt >= SLUG_ATTEMPTS)
        throw error;
    }
  }
}

/** Applies a PATCH when the caller's `If-Match` version is still current (or is `*`). */
export async function changeOrganization(
  db: Db,
  actor: Actor,
  organizationId: string,
  expectedVersion: ExpectedVersion,
  changes: OrganizationChanges,
): Promise<Organization> {
  return withTransaction(db, async (trx) => {
    await lockAsOrgAdmin(trx, organizationId, actor);
    const before = await trx
      .selectFrom('organizations')
      .select(['name', 'domain', 'settings', 'version'])
      .where('id', '=', organizationId)
      .executeTakeFirst();
    if (before === undefined) {
      throw new DomainError('ORGANIZATION_NOT_FOUND', 404, 'No such organization.');
    }
    // Read under the organization lock: the version cannot move before the update.
    assertVersion('organization', before.version, expectedVersion);
    const updated = (await updateOrganization(trx, organizationId, before.version, changes))!;
    await appendAudit(trx, [
      {
        organizationId,
        actorId: actor.userId,
        action: 'organization.updated',
        entityType: 'organization',
        entityId: organizationId,
        before: { name: before.name, domain: before.domain, settings: before.settings },
        after: { name: updated.name, domain: updated.domain, settings: updated.settings },
        requestId: actor.requestId,
      },
    ]);
    return updated;
  });
}
