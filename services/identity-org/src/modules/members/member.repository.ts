import type { Role } from '@happening/contracts';
import { sql } from 'kysely';
import type { Executor } from '../../shared/database.ts';

export interface Membership {
  organizationId: string;
  userId: string;
  role: Role;
  joinedAt: Date;
  /** Taken anew by each role change from one sequence (If-Match of a PATCH). */
  version: number;
}

/** A membership with the member's name and email, as the members list shows it. */
export interface Member extends Membership {
  email: string;
  name: string;
  /** Keyset position with the database's full timestamp precision. */
  position: { joinedAt: string; userId: string };
}

type MembershipRow = {
  organization_id: string;
  user_id: string;
  role: Role;
  created_at: Date;
  version: number;
};

const toMembership = (row: MembershipRow): Membership => ({
  organizationId: row.organization_id,
  userId: row.user_id,
  role: row.role,
  joinedAt: row.created_at,
  version: row.version,
});

const COLUMNS = ['organization_id', 'user_id', 'role', 'created_at', 'version'] as const;

export async function findMembership(
  db: Executor,
  organizationId: string,
  userId: string,
): Promise<Membership | undefined> {
  const row = await db
    .selectFrom('organization_users')
    .select(COLUMNS)
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row && toMembership(row);
}

/** The caller's role in an organization, for access checks. */
export async function roleOf(
  db: Executor,
  organizationId: string,
  userId: string,
): Promise<Role | undefined> {
  return (await findMembership(db, organizationId, userId))?.role;
}

/**
 * Inserts a membership joined now. Call it under the locks that serialise the joins of its
 * organization and of its person (see `lockJoinsOf`): the join time is the clock at the insert,
 * not the transaction's start (the column's default), so memberships commit in the order of
 * their join times and a reader paging by it never finds one appearing behind its cursor.
 */
export async function insertMembership(
  db: Executor,
  values: { organizationId: string; userId: string; role: Role },
): Promise<Membership> {
  const row = await db
    .insertInto('organization_users')
    .values({
      organization_id: values.organizationId,
      user_id: values.userId,
      role: values.role,
      created_at: sql<Date>`clock_timestamp()`,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toMembership(row);
}

export async function updateMemberRole(
  db: Executor,
  organizationId: string,
  userId: string,
  role: Role,
): Promise<Membership> {
  const row = await db
    .updateTable('organization_users')
    .set({ role, version: sql`nextval('organization_users_version')` })
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toMembership(row);
}

export async function deleteMembership(
  db: Executor,
  organizationId: string,
  userId: string,
): Promise<void> {
  await db
    .deleteFrom('organization_users')
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .execute();
}

/** How many orgAdmins the organization has; read it under the organization lock. */
export async function countAdmins(db: Executor, organizationId: string): Promise<number> {
  const { count } = await db
    .selectFrom('organization_users')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('organization_id', '=', organizationId)
    .where('role', '=', 'orgAdmin')
    .executeTakeFirstOrThrow();
  return Number(count);
}

/**
 * The orgAdmin other than `exceptUserId` who has held the role longest: the lowest membership
 * version, which is taken from one sequence when a member joins and at each role change (under
 * the organization lock), so it orders members by when they got their current role.
 */
export async function longestServingAdmin(
  db: Executor,
  organizationId: string,
  exceptUserId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('organization_users')
    .select('user_id')
    .where('organization_id', '=', organizationId)
    .where('role', '=', 'orgAdmin')
    .where('user_id', '!=', exceptUserId)
    .orderBy('version')
    .orderBy('user_id')
    .limit(1)
    .executeTakeFirst();
  return row?.user_id;
}

/** Oldest members first; `after` is the previous page's last position. */
export async function listMembers(
  db: Executor,
  organizationId: string,
  limit: number,
  after: { joinedAt: string; userId: string } | undefined,
): Promise<Member[]> {
  let query = db
    .selectFrom('organization_users as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select([
      'm.organization_id',
      'm.user_id',
      'm.role',
      'm.created_at',
      'm.version',
      'u.email',
      'u.full_name',
    ])
    .select(sql<string>`m.created_at::text`.as('joined_at_text'))
    .where('m.organization_id', '=', organizationId)
    .orderBy('m.created_at')
    .orderBy('m.user_id')
    .limit(limit);
  if (after !== undefined) {
    query = query.where((eb) =>
      eb.or([
        eb('m.created_at', '>', sql<Date>`${after.joinedAt}::timestamptz`),
        eb.and([
          eb('m.created_at', '=', sql<Date>`${after.joinedAt}::timestamptz`),
          eb('m.user_id', '>', after.userId),
        ]),
      ]),
    );
  }
  const rows = await query.execute();
  return rows.map((row) => ({
    ...toMembership(row),
    email: row.email,
    name: row.full_name,
    position: { joinedAt: row.joined_at_text, userId: row.user_id },
  }));
}
