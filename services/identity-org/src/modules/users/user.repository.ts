import { sql } from 'kysely';
import type { Executor } from '../../shared/database.ts';

/** A person as identity-org knows them; `id` is the token's `sub`. */
export interface User {
  id: string;
  email: string;
  emailVerified: boolean;
  fullName: string;
  phone: string | null;
  createdAt: Date;
}

export interface UserClaims {
  id: string;
  email: string;
  emailVerified: boolean;
  fullName: string;
  /** Undefined when the token carries none: the stored number is kept. */
  phone?: string | undefined;
  /** When the token saying so was issued, if it says. */
  issuedAt?: Date | undefined;
}

type UserRow = {
  id: string;
  email: string;
  email_verified: boolean;
  full_name: string;
  phone: string | null;
  created_at: Date;
};

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  emailVerified: row.email_verified,
  fullName: row.full_name,
  phone: row.phone,
  createdAt: row.created_at,
});

/**
 * Inserts the user, or refreshes email, its verification, name and phone when the token says
 * otherwise — unless it was issued before the token the row was last mirrored from (an old token
 * still in use must not flip the details back). `inserted` is true only for the call that created
 * the row, however many first requests race; `announce` when any of them is new (the version rose).
 */
export async function upsertUser(
  db: Executor,
  claims: UserClaims,
): Promise<
  { user: User; inserted: boolean; version: number; writtenAt: Date; announce: boolean } | undefined
> {
  const row = await db
    .with('before', (qb) => qb.selectFrom('users').select('version').where('id', '=', claims.id))
    .insertInto('users')
    .values({
      id: claims.id,
      keycloak_id: claims.id,
      email: claims.email,
      email_verified: claims.emailVerified,
      full_name: claims.fullName,
      phone: claims.phone ?? null,
      mirrored_token_issued_at: claims.issuedAt ?? null,
    })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({
          email: (eb) => eb.ref('excluded.email'),
          email_verified: (eb) => eb.ref('excluded.email_verified'),
          full_name: (eb) => eb.ref('excluded.full_name'),
          phone: sql`COALESCE(excluded.phone, users.phone)`,
          mirrored_token_issued_at: sql`GREATEST(users.mirrored_token_issued_at, excluded.mirrored_token_issued_at)`,
          // Only what other services are told of raises the version: the email and whether it
          // is verified (notification shows an invite to the account holding a verified address
          // only), the name and the phone.
          version: sql`CASE WHEN (users.email, users.email_verified, users.full_name, users.phone)
                              IS DISTINCT FROM (excluded.email, excluded.email_verified, excluded.full_name, COALESCE(excluded.phone, users.phone))
                            THEN users.version + 1 ELSE users.version END`,
        })
        // Written when the details differ or the token is newer than the last one recorded
        // (so the guard holds for users mirrored before issue times were recorded, too), and
        // never from an older token.
        .where(
          sql<boolean>`((users.email, users.email_verified, users.full_name, users.phone) IS DISTINCT FROM (excluded.email, excluded.email_verified, excluded.full_name, COALESCE(excluded.phone, users.phone))
              OR excluded.mirrored_token_issued_at > users.mirrored_token_issued_at
              OR (users.mirrored_token_issued_at IS NULL AND excluded.mirrored_token_issued_at IS NOT NULL))
            AND (excluded.mirrored_token_issued_at IS NULL OR users.mirrored_token_issued_at IS NULL
                 OR excluded.mirrored_token_issued_at >= users.mirrored_token_issued_at)`,
        ),
    )
    .returning([
      'id',
      'email',
      'email_verified',
      'full_name',
      'phone',
      'created_at',
      'version',
      sql<boolean>`xmax = 0`.as('inserted'),
      // The version before this statement (its snapshot): a concurrent change may make the
      // announcement a duplicate of the same version, which consumers ignore. Null on the update
      // path when the row was inserted by a transaction this snapshot cannot see.
      sql<number | null>`(SELECT version FROM before)`.as('previous_version'),
      sql<Date>`clock_timestamp()`.as('written_at'),
    ])
    .executeTakeFirst();
  return (
    row && {
      user: toUser(row),
      inserted: row.inserted,
      version: row.version,
      writtenAt: row.written_at,
      // A row inserted concurrently was inserted at version 1 and announced by its inserter: only
      // a version this statement raised past that is news.
      announce: row.inserted || (row.previous_version ?? 1) !== row.version,
    }
  );
}

export async function findUser(db: Executor, id: string): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'email', 'email_verified', 'full_name', 'phone', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toUser(row);
}
