import { randomUUID } from 'node:crypto';
import { type Kysely, type RawBuilder, sql } from 'kysely';

export interface FailingWrites {
  table: string;
  /** Which write fails. */
  on: 'INSERT' | 'UPDATE';
  /** A condition on `NEW`; every row when absent. */
  when?: RawBuilder<unknown>;
  /** An advisory lock key the failing write waits for first, so a test holding it can act meanwhile. */
  gate?: number;
  /** The write goes through once past the gate instead of failing: a write held in flight. */
  passes?: boolean;
  /**
   * The write's transaction fails at its COMMIT (a deferred check), after everything in it went
   * through: as a COMMIT refused or cut off would, its locks are gone when its caller hears of it.
   */
  atCommit?: boolean;
  /** The SQLSTATE the failure is raised with; P0001 (raise_exception) when absent. */
  sqlstate?: string;
}

/**
 * Runs `work` while the writes `failing` describes fail inside Postgres ("injected failure"), as
 * a write failing at the worst moment would (or a crash there), or, with `passes`, are only held
 * at the gate. The trigger is dropped afterwards.
 */
export async function withFailingWrites<DB, T>(
  db: Kysely<DB>,
  failing: FailingWrites,
  work: () => Promise<T>,
): Promise<T> {
  const name = sql.id(`fail_${randomUUID().replaceAll('-', '')}`);
  const wait =
    failing.gate === undefined
      ? ''
      : `PERFORM pg_advisory_xact_lock_shared(${Math.trunc(failing.gate)});`;
  await sql`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN ${sql.raw(wait)} ${sql.raw(failing.passes ? 'RETURN NEW;' : `RAISE EXCEPTION 'injected failure' USING ERRCODE = '${(failing.sqlstate ?? 'P0001').replace(/[^0-9A-Z]/g, '')}';`)} END $$`.execute(
    db,
  );
  const when = failing.when ? sql`WHEN (${failing.when})` : sql``;
  await (failing.atCommit
    ? sql`
    CREATE CONSTRAINT TRIGGER ${name} AFTER ${sql.raw(failing.on)} ON ${sql.table(failing.table)}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW ${when} EXECUTE FUNCTION ${name}()`
    : sql`
    CREATE TRIGGER ${name} BEFORE ${sql.raw(failing.on)} ON ${sql.table(failing.table)} FOR EACH ROW
    ${when} EXECUTE FUNCTION ${name}()`
  ).execute(db);
  try {
    return await work();
  } finally {
    await sql`DROP TRIGGER ${name} ON ${sql.table(failing.table)}`.execute(db);
    await sql`DROP FUNCTION ${name}()`.execute(db);
  }
}

/** Completing the Idempotency-Key `key` fails (see `withIdempotencyKey`). */
export function idempotencyKeyCompletionFails(key: string): FailingWrites {
  return {
    table: 'idempotency_keys',
    on: 'UPDATE',
    when: sql`NEW.key = ${sql.lit(key)} AND NEW.status = 'completed'`,
  };
}
