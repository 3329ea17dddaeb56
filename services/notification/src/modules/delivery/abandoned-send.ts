import { enqueueEvents } from '@happening/db';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { NotificationDb, NotificationRow } from '../../database.ts';
import { notificationFailed } from './delivery.events.ts';
import { countDelivery } from './delivery.metrics.ts';

/**
 * Publishes `notification_failed` for notifications given up because a send that ended without a
 * recorded outcome was their last attempt (found by the sweep or by a claim, see
 * `abandonedAttempt`), in the transaction that made them `failed`.
 */
export async function publishGivenUp(
  trx: Transaction<NotificationDb>,
  rows: readonly NotificationRow[],
): Promise<void> {
  await enqueueEvents(
    trx,
    rows.map((row) => notificationFailed(row)),
  );
}

/** After that transaction committed: counts each one as failed and logs it. */
export function reportGivenUp(logger: Logger, rows: readonly NotificationRow[]): void {
  for (const row of rows) {
    countDelivery(row.channel, 'failed');
    logger.warn(
      { notificationId: row.id, attempts: row.attempts, reason: row.last_error },
      'notification delivery failed',
    );
  }
}
