import type { Role } from '@happening/contracts';
import type { Kysely, Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';

type Db = Kysely<NotificationDb> | Transaction<NotificationDb>;

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
  return row?.role ?? undefined;
}
