import { sql } from 'kysely';
import type { Executor } from '../../shared/database.ts';

/** A person as identity-org knows them; `id` is the token's `sub`. */
export interface User {
  id: string;
  email: string;
  emailVerified: boolean;
  fullName: string;
  createdAt: Date;
}

export interface UserClaims {
  id: string;
  email: string;
  emailVerified: boolean;
  fullName: string;
}

type UserRow = {
  id: string;
  email: string;
  email_verified: boolean;
  full_name: string;
  created_at: Date;
};

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  emailVerified: row.email_verified,
  fullName: row.full_name,
  createdAt: row.created_at,
});

/**
 * Inserts the user, or refreshes email and name when the token says otherwise. `inserted` is
 * true only for the call that created the row, however many first requests race.
 */
export async function upsertUser(
  db: Executor,
  claims: UserClaims,
): Promise<{ user: User; inserted: boolean; version: number } | undefined> {
  const row = await db
    .insertInto('users')
    .values({
      id: claims.id,
      keycloak_id: claims.id,
      email: claims.email,
      email_verified: claims.emailVerified,
      full_name: claims.fullName,
    })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({
          email: (eb) => eb.ref('excluded.email'),
          email_verified: (eb) => eb.ref('excluded.email_verified'),
          full_name: (eb) => eb.ref('excluded.full_name'),
          version: sql`users.version + 1`,
        })
        .where(
          sql<boolean>`(users.email, users.email_verified, users.full_name) IS DISTINCT FROM (excluded.email, excluded.email_verified, excluded.full_name)`,
        ),
    )
    .returning([
      'id',
      'email',
      'email_verified',
      'full_name',
      'created_at',
      'version',
      sql<boolean>`xmax = 0`.as('inserted'),
    ])
    .executeTakeFirst();
  return row && { user: toUser(row), inserted: row.inserted, version: row.version };
}

export async function findUser(db: Executor, id: string): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'email', 'email_verified', 'full_name', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toUser(row);
}
