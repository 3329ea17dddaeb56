import { enqueueOutbox } from '@happening/db';
import { startRepeatingJob } from '@happening/service-kit';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { NotificationDb } from '../../database.ts';
import { claimStalePending } from '../notifications/notification.repository.ts';
import { deliveryRequest } from './delivery.message.ts';

export interface PendingSweepOptions {
  db: Kysely<NotificationDb>;
  logger: Logger;
  intervalMs: number;
  /** A notification untouched this long while pending is enqueued again (longer than any retry delay). */
  staleAfterMs: number;
  batchSize?: number;
}

/** One sweep round: re-enqueues stale pending notifications; returns how many. */
export async function sweepPending(options: PendingSweepOptions): Promise<number> {
  const batchSize = options.batchSize ?? 100;
  let total = 0;
  for (;;) {
    const claimed = await options.db.transaction().execute(async (trx) => {
      const rows = await claimStalePending(
        trx,
        new Date(Date.now() - options.staleAfterMs),
        batchSize,
      );
      await enqueueOutbox(
        trx,
        rows.map((row) => deliveryRequest(row.id, row.correlation_id)),
      );
      return rows.length;
    });
    total += claimed;
    if (claimed < batchSize) return total;
  }
}

/** Runs `sweepPending` every interval until stopped; safe with several replicas. */
export function startPendingSweep(options: PendingSweepOptions): { stop(): Promise<void> } {
  return startRepeatingJob({
    intervalMs: options.intervalMs,
    run: async () => {
      const count = await sweepPending(options);
      if (count > 0) options.logger.info({ count }, 're-enqueued stale pending notifications');
    },
    onError: (error) => options.logger.warn({ err: error }, 'pending sweep failed'),
  });
}
