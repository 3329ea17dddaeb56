import type { Role } from '@happening/contracts';
import { sql } from 'kysely';
import type { OrganizationStatus } from '../../db.types.ts';
import { type Executor, lockNameUntilCommit } from '../../shared/database.ts';
import { slugLockKey, slugStem } from './slug.policy.ts';

export interface Organization {
  id: string;
  name: string;
  slug: string;
  domain: string | null;
  settings: Record<string, unknown>;
  status: OrganizationStatus;
  ownerId: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = [
  'id',
  'name',
  'slug',
  'domain',
  'settings',
  'status',
  'owner_id',
  'version',
  'created_at',
  'updated_at',
] as const;

type OrganizationRow = {
  id: string;
  name: string;
  slug: string;
  domain: string | null;
  settings: Record<string, unknown>;
  status: OrganizationStatus;
  owner_id: string;
  version: number;
  created_at: Date;
  updated_at: Date;
};

export const toOrganization = (row: OrganizationRow): Organization => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  domain: row.domain,
  settings: row.settings,
  status: row.status,
  ownerId: row.owner_id,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export async function findOrganization(
  db: Executor,
  id: string,
): Promise<Organization | undefined> {
  const row = await db
    .selectFrom('organizations')
    .select(COLUMNS)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toOrganization(row);
}

/** Slugs already taken among `base` and its numbered variants (and others sharing their stem). */
/**
 * Until commit, the slugs `base`'s candidates may meet: one sign-up at a time picks among them.
 * Taken after the creator's own lock (`lockJoinsOf`).
 */
export async function lockSlugsOf(trx: Executor, base: string): Promise<void> {
  await lockNameUntilCommit(trx, `slug:${slugLockKey(base)}`);
}

export async function takenSlugs(db: Executor, base: string): Promise<Set<string>> {
  // Slugs hold only a-z, 0-9 and dashes: nothing in the stem is a LIKE wildcard.
  const rows = await db
    .selectFrom('organizations')
    .select('slug')
    .where('slug', 'like', `${slugStem(base)}%`)
    .execute();
  return new Set(rows.map((r) => r.slug));
}

export async function insertOrganization(
  db: Executor,
  values: { name: string; slug: string; ownerId: string },
): Promise<Organization> {
  const row = await db
    .insertInto('organizations')
    .values({
      name: values.name,
      slug: values.slug,
      owner_id: values.ownerId,
      domain: null,
      settings: '{}',
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toOrganization(row);
}

export interface OrganizationChanges {
  name?: string | undefined;
  domain?: string | null | undefined;
  settings?: Record<string, unknown> | undefined;
}

/** Applies `changes` and bumps the version, only if the row is still at `expectedVersion`. */
export async function updateOrganization(
  db: Executor,
  id: string,
  expectedVersion: number,
  changes: OrganizationChanges,
): Promise<Organization | undefined> {
  const row = await db
    .updateTable('organizations')
    .set((eb) => ({
      ...(changes.name !== undefined && { name: changes.name }),
      ...(changes.domain !== undefined && { domain: changes.domain }),
      ...(changes.settings !== undefined && { settings: JSON.stringify(changes.settings) }),
      version: eb('version', '+', 1),
    }))
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .returning(COLUMNS)
    .executeTakeFirst();
  return row && toOrganization(row);
}

/** Makes `ownerId` the owner and bumps the version (the organization as read has changed). */
export async function setOwner(db: Executor, id: string, ownerId: string): Promise<void> {
  await db
    .updateTable('organizations')
    .set((eb) => ({ owner_id: ownerId, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

/** One of a person's memberships with its organization, as `/v1/me` lists them. */
export interface OrganizationOfUser {
  organization: Organization;
  role: Role;
  /** Keyset position with the database's full timestamp precision. */
  position: { joinedAt: string; organizationId: string };
}

/**
 * The person's organizations with their role, oldest membership first (ties by organization id);
 * `after` is the previous page's last position.
 */
export async function organizationsOfUser(
  db: Executor,
  userId: string,
  limit: number,
  after: { joinedAt: string; organizationId: string } | undefined,
): Promise<OrganizationOfUser[]> {
  let query = db
    .selectFrom('organization_users as m')
    .innerJoin('organizations as o', 'o.id', 'm.organization_id')
    .select([
      'o.id',
      'o.name',
      'o.slug',
      'o.domain',
      'o.settings',
      'o.status',
      'o.owner_id',
      'o.version',
      'o.created_at',
      'o.updated_at',
      'm.role',
    ])
    .select(sql<string>`m.created_at::text`.as('joined_at_text'))
    .where('m.user_id', '=', userId)
    .orderBy('m.created_at')
    .orderBy('m.organization_id')
    .limit(limit);
  if (after !== undefined) {
    const at = sql<Date>`${after.joinedAt}::timestamptz`;
    query = query.where((eb) =>
      eb.or([
        eb('m.created_at', '>', at),
        eb.and([eb('m.created_at', '=', at), eb('m.organization_id', '>', after.organizationId)]),
      ]),
    );
  }
  const rows = await query.execute();
  return rows.map((row) => ({
    organization: toOrganization(row),
    role: row.role,
    position: { joinedAt: row.joined_at_text, organizationId: row.id },
  }));
}
