import { type Kysely, sql, type Transaction } from 'kysely';
import type { IdentityDatabase } from '../db.types.ts';

export type Db = Kysely<IdentityDatabase>;
/** A connection or a transaction: repository functions accept either. */
export type Executor = Kysely<IdentityDatabase> | Transaction<IdentityDatabase>;
export type Trx = Transaction<IdentityDatabase>;

/** True when `error` is a Postgres unique violation, optionally of one named constraint/index. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return (
    pgError?.code === '23505' && (constraint === undefined || pgError.constraint === constraint)
  );
}

/**
 * Holds the advisory lock named `name` (`owner:<userId>`, `invitee:<email>`, `slug:<stem>`) until
 * the transaction ends: one namespace of keys, so two kinds of lock never share a name.
 */
export async function lockNameUntilCommit(executor: Executor, name: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(executor);
}
