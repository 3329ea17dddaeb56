import { type RepeatingJob, startRepeatingJob } from '@happening/service-kit/repeating-job';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';

/** How long the platform tables keep what is done with; rows older than this are deleted. */
export interface PlatformRetention {
  /** Published outbox rows, kept to look at what went out (default 24 h). */
  publishedOutboxMs: number;
  /** Inbox entries: redeliveries of a message older than this are handled again (default 7 days). */
  inboxMs: number;
  /** Idempotency keys: a retry with a key older than this runs anew (default 24 h). */
  idempotencyKeysMs: number;
}

export const DEFAULT_RETENTION: PlatformRetention = {
  publishedOutboxMs: 24 * 3_600_000,
  inboxMs: 7 * 24 * 3_600_000,
  idempotencyKeysMs: 24 * 3_600_000,
};

/** A table of a service's own pruned with the platform tables: rows whose `column` is older. */
export interface ServiceTableRetention {
  table: string;
  /** A timestamp column. */
  column: string;
  olderThanMs: number;
  /** Only rows whose `column` holds one of `values` (e.g. finished ones, never work still to do). */
  onlyWhere?: { column: string; values: readonly string[] };
}

/** Rows deleted per statement: a long backlog goes in short transactions. */
const CHUNK = 5_000;

/**
 * Deletes published outbox rows, inbox entries and idempotency keys past their retention, in
 * chunks, skipping rows another pruner holds. Unpublished outbox rows are never touched.
 */
export async function prunePlatformTables<DB>(
  db: Kysely<DB>,
  retention: PlatformRetention = DEFAULT_RETENTION,
  now: Date = new Date(),
): Promise<{ outbox: number; inbox: number; idempotencyKeys: number }> {
  const before = (ms: number) => new Date(now.getTime() - ms);
  // `published_at < cutoff` never holds for an unpublished row (NULL).
  const outbox = await deleteOlderThan(
    db,
    'outbox',
    'published_at',
    before(retention.publishedOutboxMs),
  );
  const inbox = await deleteOlderThan(db, 'inbox', 'handled_at', before(retention.inboxMs));
  const idempotencyKeys = await deleteOlderThan(
    db,
    'idempotency_keys',
    'created_at',
    before(retention.idempotencyKeysMs),
  );
  return { outbox, inbox, idempotencyKeys };
}

/** Deletes the rows of `table` whose `column` is before `cutoff` (and match `onlyWhere`), in chunks. */
function deleteOlderThan<DB>(
  db: Kysely<DB>,
  table: string,
  column: string,
  cutoff: Date,
  onlyWhere?: ServiceTableRetention['onlyWhere'],
) {
  const also = onlyWhere
    ? sql` AND ${sql.ref(onlyWhere.column)} = ANY(${[...onlyWhere.values]}::text[])`
    : sql``;
  return deleteInChunks(
    db,
    (limit) => sql`
      DELETE FROM ${sql.table(table)} WHERE ctid IN (
        SELECT ctid FROM ${sql.table(table)} WHERE ${sql.ref(column)} < ${cutoff}${also}
        LIMIT ${limit} FOR UPDATE SKIP LOCKED)`,
  );
}

async function deleteInChunks<DB>(
  db: Kysely<DB>,
  statement: (limit: number) => ReturnType<typeof sql>,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const result = await statement(CHUNK).execute(db);
    const n = Number(result.numAffectedRows ?? 0);
    deleted += n;
    if (n < CHUNK) return deleted;
  }
}

/**
 * Runs `prunePlatformTables` now (in the background: a first pruning of tables that were never
 * pruned can take a while) and then every `intervalMs` (default 10 min), one run at a time, on
 * its own schedule beside the relay rather than inside it, so a long pruning delays no publish.
 * `stop()` waits for a pruning in progress.
 */
export function startPlatformRetention<DB>(options: {
  db: Kysely<DB>;
  logger: Logger;
  retention?: Partial<PlatformRetention>;
  /** The service's own tables pruned on the same schedule. */
  serviceTables?: readonly ServiceTableRetention[];
  intervalMs?: number;
}): RepeatingJob<void> {
  const retention = { ...DEFAULT_RETENTION, ...options.retention };
  return startRepeatingJob({
    intervalMs: options.intervalMs ?? 600_000,
    runAtStart: true,
    run: async () => {
      const deleted: Record<string, number> = {
        ...(await prunePlatformTables(options.db, retention)),
      };
      for (const { table, column, olderThanMs, onlyWhere } of options.serviceTables ?? []) {
        const cutoff = new Date(Date.now() - olderThanMs);
        deleted[table] = await deleteOlderThan(options.db, table, column, cutoff, onlyWhere);
      }
      if (Object.values(deleted).some((n) => n > 0))
        options.logger.info(deleted, 'platform tables pruned');
    },
    onError: (err) => options.logger.error({ err }, 'pruning the platform tables failed'),
  });
}
