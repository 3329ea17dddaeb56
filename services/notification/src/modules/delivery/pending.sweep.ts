import { enqueueOutbox } from '@happening/db';
import { startRepeatingJob } from '@happening/service-kit';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { NotificationDb } from '../../database.ts';
import { claimStalePending } from '../notifications/notification.repository.ts';
import { publishGivenUp, reportGivenUp } from './abandoned-send.ts';
import { deliveryRequest } from './delivery.message.ts';

export interface PendingSweepOptions {
  db: Kysely<NotificationDb>;
  logger: Logger;
  intervalMs: number;
  /** A notification untouched this long while pending is enqueued again (longer than any retry delay). */
  staleAfterMs: number;
  /** Attempts a notification has (DELIVERY_RETRY_DELAYS_MS + 1), abandoned sends counted. */
  maxAttempts: number;
  batchSize?: number;
}

/**
 * One sweep round: re-enqueues stale pending notifications, and gives up (`failed`, with
 * `notification_failed`) those whose abandoned send was their last attempt; returns how many it
 * claimed.
 */
export async function sweepPending(options: PendingSweepOptions): Promise<number> {
  const batchSize = options.batchSize ?? 100;
  let total = 0;
  for (;;) {
    const rows = await options.db.transaction().execute(async (trx) => {
      const claimed = await claimStalePending(
        trx,
        options.staleAfterMs,
        batchSize,
        options.maxAttempts,
      );
      const pending = claimed.filter((row) => row.status === 'pending');
      await enqueueOutbox(
        trx,
        pending.map((row) => deliveryRequest(row.id, row.correlation_id)),
      );
      await publishGivenUp(
        trx,
        claimed.filter((row) => row.status === 'failed'),
      );
      return claimed;
    });
    reportGivenUp(
      options.logger,
      rows.filter((row) => row.status === 'failed'),
    );
    total += rows.length;
    if (rows.length < batchSize) return total;
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
