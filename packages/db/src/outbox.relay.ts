import { type Kysely, sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { outboxGauges } from './outbox.metrics.ts';
import { outboxRetryDelayMs } from './outbox.retry.ts';
import type { PlatformTables } from './platform.tables.ts';

/** What the relay hands to `publish`. */
export interface RelayedMessage {
  messageId: string;
  routingKey: string;
  payload: unknown;
  headers: Record<string, unknown>;
}

export interface OutboxRelayOptions<DB = unknown> {
  db: Kysely<DB>;
  /** Must resolve only once the broker confirmed the message; a rejection means "not sent". */
  publish: (message: RelayedMessage) => Promise<void>;
  logger: Logger;
  /** Poll interval when idle; default 100 ms (`wake()` cuts it short). */
  pollIntervalMs?: number;
  /** Rows claimed per round; default 100. */
  batchSize?: number;
  /** A round's publishes not settled within this count as failed; default 10 s (the broker's own timeout should be shorter). */
  confirmTimeoutMs?: number;
  /** Cap of the per-row retry backoff; default 10 s. */
  maxRetryDelayMs?: number;
  /** Where the lag and last-round gauges go; default prom-client's default registry. */
  registry?: Registry;
  /**
   * While this answers true (the process is serving a burst of requests), rounds wait for
   * `resume()`, so the requests get the CPU first and the relay catches up after them; never
   * longer than `maxDeferMs` after a row was waiting. Absent: rounds never wait.
   */
  deferWhile?: () => boolean;
  /** Longest a row waits because of `deferWhile`; default 2 s. */
  maxDeferMs?: number;
}

export interface OutboxRelay {
  /** Finishes the round in progress, then stops. */
  stop(): Promise<void>;
  /** Starts the next round now (call after committing an outbox row). */
  wake(): void;
  /** Age in seconds of the oldest unpublished row at the last measurement. */
  lagSeconds(): number;
  /** Ends a wait for `deferWhile` (call when the burst is over). */
  resume(): void;
}

interface ClaimedRow {
  id: string;
  message_id: string;
  routing_key: string;
  payload: unknown;
  headers: Record<string, unknown>;
  ordering_key: string;
  attempts: number;
}

const METRICS_INTERVAL_MS = 1_000;

/**
 * Publishes committed outbox rows and marks them published once `publish` resolved.
 *
 * Claim-and-mark, never a cursor: every unpublished committed row is eligible however late it
 * committed. A round locks the oldest unpublished row of each ordering key (aggregate) with
 * FOR UPDATE SKIP LOCKED; that lock is the key's mutex, so a concurrent relay skips the whole
 * aggregate instead of sending a later row first. Rows of one key are then sent one after the
 * other, stopping at the first failure; the failed row stays unpublished with a backoff.
 */
export function startOutboxRelay<DB>(options: OutboxRelayOptions<DB>): OutboxRelay {
  const db = options.db as unknown as Kysely<PlatformTables>;
  const { logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const batchSize = options.batchSize ?? 100;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
  const gauges = outboxGauges(options.registry);
  // A relay whose first round never ends (Postgres unreachable from the start) ages from here.
  gauges.lastRound.setToCurrentTime();
  let stopped = false;
  let lag = 0;
  let lastMeasured = 0;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const maxDeferMs = options.maxDeferMs ?? 2_000;
  /** Since when a row has been waiting (a wake, or a deferral with no wake seen). */
  let pendingSince: number | undefined;
  /** The first wake since the current round started: its row may have missed the round. */
  let wokenDuringRound: number | undefined;
  /**
   * Since when the rows a failed publish left behind have been waiting: they keep that place
   * under the bound through their backoff, when rounds that find nothing due end a burst.
   */
  let failedSince: number | undefined;
  let resumeDeferred: (() => void) | undefined;

  /** Waits while `deferWhile` answers true, until `resume()` or the bound. */
  async function deferWhileBusy(): Promise<void> {
    while (!stopped && options.deferWhile?.()) {
      pendingSince ??= performance.now();
      const remaining = maxDeferMs - (performance.now() - pendingSince);
      if (remaining <= 0) return;
      await interruptibleDelay(remaining, (interrupt) => {
        resumeDeferred = interrupt;
      });
    }
  }

  async function round(): Promise<{ claimed: number; failed: number }> {
    return db.transaction().execute(async (trx) => {
      const rows = await claim(trx, batchSize);
      if (rows.length === 0) return { claimed: 0, failed: 0 };
      const byKey = new Map<string, ClaimedRow[]>();
      for (const row of rows) {
        const chain = byKey.get(row.ordering_key);
        if (chain) chain.push(row);
        else byKey.set(row.ordering_key, [row]);
      }
      const published: string[] = [];
      const failures: Array<{ row: ClaimedRow; error: unknown }> = [];
      // One deadline for the round's publishes (a timer per message cost as much as framing it).
      const deadline = deadlineAfter(confirmTimeoutMs);
      await Promise.all(
        [...byKey.values()].map(async (chain) => {
          for (const row of chain) {
            try {
              await Promise.race([
                options.publish({
                  messageId: row.message_id,
                  routingKey: row.routing_key,
                  payload: row.payload,
                  headers: row.headers,
                }),
                deadline.expired,
              ]);
              published.push(row.id);
            } catch (error) {
              failures.push({ row, error });
              return;
            }
          }
        }),
      ).finally(deadline.cancel);
      if (published.length > 0) {
        await sql`UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL
                  WHERE id = ANY(${published}::bigint[])`.execute(trx);
      }
      for (const { row, error } of failures) {
        const delayMs = outboxRetryDelayMs(row.attempts + 1, maxRetryDelayMs);
        await sql`UPDATE outbox SET attempts = attempts + 1, last_error = ${String((error as Error)?.message ?? error)},
                    next_attempt_at = now() + ${delayMs} * interval '1 millisecond'
                  WHERE id = ${row.id}`.execute(trx);
      }
      if (failures.length > 0) {
        logger.warn(
          { failed: failures.length, published: published.length, err: failures[0]?.error },
          'outbox publish failed; rows stay unpublished and are retried',
        );
      }
      return { claimed: rows.length, failed: failures.length };
    });
  }

  /** Whether a row whose publish failed is still unpublished (due or in its backoff). */
  async function retriesPending(): Promise<boolean> {
    const { rows } = await sql`
      SELECT 1 FROM outbox WHERE published_at IS NULL AND attempts > 0 LIMIT 1`.execute(db);
    return rows.length > 0;
  }

  async function measure(force = false): Promise<void> {
    if (!force && Date.now() - lastMeasured < METRICS_INTERVAL_MS) return;
    lastMeasured = Date.now();
    const { rows } = await sql<{ unpublished: number; lag: number; schema: string }>`
      SELECT count(*)::int AS unpublished,
             COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS lag,
             current_schema() AS schema
      FROM outbox WHERE published_at IS NULL`.execute(db);
    const row = rows[0];
    if (!row) return;
    lag = row.lag;
    gauges.lag.set({ schema: row.schema }, lag);
    gauges.unpublished.set({ schema: row.schema }, row.unpublished);
  }

  function pause(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return interruptibleDelay(ms, (interrupt) => {
      wakeUp = interrupt;
    });
  }

  const loop = (async () => {
    let errorStreak = 0;
    let busyBefore = false;
    while (!stopped) {
      let busy = false;
      try {
        await deferWhileBusy();
        if (stopped) break;
        wokenDuringRound = undefined;
        const placeBeforeRound = pendingSince ?? performance.now();
        const { claimed, failed } = await round();
        busy = claimed === batchSize && failed === 0;
        if (failed > 0) failedSince ??= placeBeforeRound;
        // Drained: only a row committed during the round may still wait, and rows a failed
        // publish left behind until they are out. (A full round keeps the place as it is.)
        if (claimed < batchSize) {
          if (failedSince !== undefined && !(await retriesPending())) failedSince = undefined;
          pendingSince = earliest(wokenDuringRound, failedSince);
        }
        // Measured at once when a burst ends (also one that ended on a full round), so the lag
        // reads 0 as soon as everything is out.
        await measure(!busy && (claimed > 0 || busyBefore));
        busyBefore = busy;
        errorStreak = 0;
        // Only a completed round (claim, publish, mark, measure) moves it: a round that throws or
        // hangs leaves it, and the lag gauges, as they were (alert HappeningOutboxRelayStalled).
        gauges.lastRound.setToCurrentTime();
      } catch (error) {
        // Postgres unreachable: back off rather than log a failure every poll.
        errorStreak++;
        logger.error({ err: error, errorStreak }, 'outbox relay round failed');
      }
      const delay =
        errorStreak > 0
          ? outboxRetryDelayMs(errorStreak, maxRetryDelayMs, pollIntervalMs)
          : pollIntervalMs;
      if (!busy && !stopped) await pause(delay);
    }
  })();

  return {
    async stop() {
      stopped = true;
      wakeUp?.();
      resumeDeferred?.();
      await loop;
    },
    resume() {
      resumeDeferred?.();
    },
    wake() {
      const now = performance.now();
      pendingSince ??= now;
      wokenDuringRound ??= now;
      if (wakeUp) wakeUp();
      else woken = true;
    },
    lagSeconds: () => lag,
  };
}

/** The earlier of two optional instants. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** Resolves after `ms`, or at once when the function handed to `onInterrupt` is called. */
function interruptibleDelay(
  ms: number,
  onInterrupt: (interrupt: (() => void) | undefined) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      onInterrupt(undefined);
      resolve();
    }
    onInterrupt(done);
  });
}

/** A promise rejected once `ms` have passed (it never resolves), and the way to cancel it. */
function deadlineAfter(ms: number): { expired: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`publish not confirmed within ${ms} ms`)), ms);
  });
  // Nobody may be racing it any more when it fires.
  expired.catch(() => {});
  return { expired, cancel: () => clearTimeout(timer) };
}

/**
 * Locks the head row of up to `limit` ordering keys (skipping keys another relay holds), then
 * returns those heads and the rows queued behind them, heads first. Rows behind a locked head
 * need no lock of their own: no relay sees them as a head before this transaction marks the head.
 * (A row of the same key that commits below the head meanwhile is left to a later round.)
 */
async function claim(trx: Transaction<PlatformTables>, limit: number): Promise<ClaimedRow[]> {
  // `outbox_heads` (a platform migration) locks the oldest heads. Taking a head's lock re-checks
  // the conditions on the newest version, so a head another relay marked meanwhile is dropped; a
  // head another relay holds is skipped, and the rows behind it are no heads while it is
  // unpublished, so its whole key is left to that relay.
  const { rows: heads } = await sql<ClaimedRow & { queued: boolean }>`
    SELECT id, message_id, routing_key, payload, headers, ordering_key, attempts, queued
    FROM outbox_heads(${limit})`.execute(trx);
  const queued = heads.filter((head) => head.queued);
  if (queued.length === 0 || heads.length >= limit) return heads;
  // The rows behind the heads of keys that have some, round-robin over the keys.
  const { rows: behind } = await sql<ClaimedRow>`
    SELECT id, message_id, routing_key, payload, headers, ordering_key, attempts
    FROM (
      SELECT o.*, row_number() OVER (PARTITION BY o.ordering_key ORDER BY o.id) AS position
      FROM outbox o
      JOIN unnest(${queued.map((head) => head.ordering_key)}::text[],
                  ${queued.map((head) => head.id)}::bigint[]) AS head(ordering_key, id)
        ON o.ordering_key = head.ordering_key AND o.id > head.id
      WHERE o.published_at IS NULL
    ) queued
    ORDER BY position, id
    LIMIT ${limit - heads.length}`.execute(trx);
  return [...heads, ...behind];
}
