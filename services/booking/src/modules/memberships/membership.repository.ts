import type { Role } from '@happening/contracts';
import type { Kysely, Transaction } from 'kysely';
import type { BookingDb } from '../../db/database.ts';

type Db = Kysely<BookingDb> | Transaction<BookingDb>;

/** The caller's role in an organization, from the memberships projection (none once removed). */
export async function roleOf(db: Db, orgId: string, userId: string): Promise<Role | undefined> {
  const row = await db
    .selectFrom('memberships')
    .select('role')
    .where('organization_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.role ?? undefined;
}
