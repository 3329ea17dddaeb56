import { CompiledQuery, type Kysely, sql } from 'kysely';
import pg from 'pg';
import type { BookingDb } from './database.ts';

/** A transaction whose BEGIN and COMMIT each share a round trip with a statement. */
export interface PipelinedTransaction {
  /** The transaction's connection, for statements between the first and the last. */
  readonly db: Kysely<BookingDb>;
  /** BEGIN followed by `query`, sent together; call it once, before any other statement. */
  first<R>(query: CompiledQuery<R>): Promise<R[]>;
  /**
   * `query` followed by COMMIT, sent together; the transaction's last statement. Resolves once
   * both succeeded. When Postgres refuses `query` it answers the COMMIT with a rollback, so
   * nothing of the transaction is kept; when the COMMIT fails, its error is thrown. When the
   * COMMIT gets no answer from Postgres (the connection broke, the server went down), the
   * transaction may have committed or not, and when `query` failed in the client (never sent),
   * the COMMIT kept the rest: `CommitOutcomeUnknown` is thrown.
   */
  commitWith<R>(query: CompiledQuery<R>): Promise<R[]>;
}

/**
 * Runs `work` in one transaction on one pooled connection (in pg pipeline mode, see
 * `createBookingDb`), so a transaction of N statements costs N round trips instead of N + 2.
 * Rolled back when `work` throws before its `commitWith`; `work` must end with `commitWith`. When
 * `work` throws after its COMMIT went through, `CommitOutcomeUnknown` is thrown (cause: the error).
 */
export async function pipelinedTransaction<T>(
  db: Kysely<BookingDb>,
  work: (tx: PipelinedTransaction) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    let ended = false;
    let hasCommitted = false;
    // Both statements are handed to the connection before either is awaited; the second is
    // still run (and answered) when the first fails.
    const pair = (a: CompiledQuery, b: CompiledQuery) =>
      conn.getExecutor().provideConnection(async (connection) => {
        const [x, y] = await Promise.allSettled([
          connection.executeQuery(a),
          connection.executeQuery(b),
        ]);
        return [x, y] as const;
      });
    const tx: PipelinedTransaction = {
      db: conn,
      async first<R>(query: CompiledQuery<R>) {
        const [begun, answered] = await pair(CompiledQuery.raw('begin'), query);
        if (begun.status === 'rejected') throw begun.reason;
        if (answered.status === 'rejected') throw answered.reason;
        return answered.value.rows as R[];
      },
      async commitWith<R>(query: CompiledQuery<R>) {
        ended = true;
        const [written, committed] = await pair(query, CompiledQuery.raw('commit'));
        if (committed.status === 'rejected' && !answeredByPostgres(committed.reason))
          throw new CommitOutcomeUnknown(committed.reason);
        if (written.status === 'rejected') {
          // Refused by Postgres, the transaction was aborted and the COMMIT rolled it back. Failed
          // in the client (a parameter it could not send), the COMMIT behind it committed the rest.
          if (committed.status === 'fulfilled' && !(written.reason instanceof pg.DatabaseError))
            throw new CommitOutcomeUnknown(
              written.reason,
              'the last statement failed in the client; the COMMIT behind it went through',
            );
          throw written.reason;
        }
        if (committed.status === 'rejected') throw committed.reason;
        hasCommitted = true;
        return written.value.rows as R[];
      },
    };
    try {
      const result = await work(tx);
      if (!ended) throw new Error('a pipelined transaction must end with commitWith');
      return result;
    } catch (error) {
      if (!ended) {
        // The original error is what the caller acts on; a connection too broken to roll back
        // fails its next statement instead.
        await sql`rollback`.execute(conn).catch(() => undefined);
      }
      // What the work did after a COMMIT that went through is kept: its caller must not act as
      // if nothing was (give back seats a committed booking holds), but read it back.
      if (hasCommitted && !(error instanceof CommitOutcomeUnknown))
        throw new CommitOutcomeUnknown(error, 'the transaction committed, then its work failed');
      throw error;
    }
  });
}

/**
 * A COMMIT that went unanswered (the transaction may have committed or not), or work that failed
 * after its COMMIT went through: either way the outcome is Postgres's to tell, read back.
 */
export class CommitOutcomeUnknown extends Error {
  constructor(
    cause: unknown,
    message = 'the COMMIT was sent but not answered: the transaction may have committed',
  ) {
    super(message, { cause });
    this.name = 'CommitOutcomeUnknown';
  }
}

/**
 * Whether `error` is Postgres refusing a statement of a live session (an SQLSTATE outside the
 * classes of a lost connection, an operator's shutdown, a system error or an internal one), as
 * opposed to the session ending with the statement's fate unknown.
 */
function answeredByPostgres(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError) || error.code === undefined) return false;
  return !['08', '57', '58', 'XX'].includes(error.code.slice(0, 2));
}
