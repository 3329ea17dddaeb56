import type { Role } from '@happening/contracts';
import type { Executor } from '../../database.ts';

/** The caller's role in an org, or undefined when it is not (or no longer) a member. */
export async function roleOf(
  db: Executor,
  orgId: string,
  userId: string,
): Promise<Role | undefined> {
  const row = await db
    .selectFrom('memberships')
    .select('role')
    .where('organization_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.role ?? undefined;
}
