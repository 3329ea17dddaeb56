import { deferred, eventually } from '@happening/testkit';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { BookingDb } from '../src/db/database.ts';

/** A transaction kept open, holding the locks it took, until `release`. */
export interface HeldLock {
  /** Runs the transaction's last work (`whileHeld`), ends it and waits until it has. */
  release(): Promise<void>;
}

/**
 * Runs `take` in a transaction of its own and keeps it open, holding what `take` locked, as a
 * rebuild or a compensation elsewhere would; `whileHeld` runs in it once released, still
 * holding the locks.
 */
export async function holdLock(
  db: Kysely<BookingDb>,
  take: (trx: Transaction<BookingDb>) => Promise<unknown>,
  whileHeld: (trx: Transaction<BookingDb>) => Promise<unknown> = async () => undefined,
): Promise<HeldLock> {
  const taken = deferred();
  const released = deferred();
  const done = db.transaction().execute(async (trx) => {
    await take(trx);
    taken.resolve();
    await released.promise;
    await whileHeld(trx);
  });
  await Promise.race([taken.promise, done]);
  return {
    release: async () => {
      released.resolve();
      await done;
    },
  };
}

/**
 * Resolves once a session of this test's database (not another test file's, on the shared
 * server) waits for an advisory lock, in `mode` when given.
 */
export function advisoryLockAwaited(
  db: Kysely<BookingDb>,
  mode?: 'ShareLock' | 'ExclusiveLock',
): Promise<unknown> {
  return eventually(async () => {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM pg_locks
      WHERE locktype = 'advisory' AND NOT granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND (${mode ?? null}::text IS NULL OR mode = ${mode ?? null})`.execute(db);
    return Number(rows[0]?.n) > 0;
  });
}
