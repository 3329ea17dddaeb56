import type { Role } from '@happening/contracts';
import type { Kysely, Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';

type Db = Kysely<NotificationDb> | Transaction<NotificationDb>;

export async function upsertMembership(
  db: Db,
  m: { organizationId: string; userId: string; role: Role },
): Promise<void> {
  await db
    .insertInto('memberships')
    .values({ organization_id: m.organizationId, user_id: m.userId, role: m.role })
    .onConflict((oc) => oc.columns(['organization_id', 'user_id']).doUpdateSet({ role: m.role }))
    .execute();
}

export async function deleteMembership(
  db: Db,
  m: { organizationId: string; userId: string },
): Promise<void> {
  await db
    .deleteFrom('memberships')
    .where('organization_id', '=', m.organizationId)
    .where('user_id', '=', m.userId)
    .execute();
}

/** The caller's role in an organization, or undefined for a non-member. */
export async function roleOf(
  db: Db,
  organizationId: string,
  userId: string,
): Promise<Role | undefined> {
  const row = await db
    .selectFrom('memberships')
    .select('role')
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.role;
}
