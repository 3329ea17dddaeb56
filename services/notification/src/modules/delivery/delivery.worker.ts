import { enqueueEvents } from '@happening/db';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { NotificationDb } from '../../database.ts';
import type { NotificationChannel } from '../../domain.ts';
import type { SealedBox } from '../../security/sealed-box.ts';
import {
  lockPending,
  markSent,
  markSkipped,
  recordFailure,
} from '../notifications/notification.repository.ts';
import { channelEnabled } from '../preferences/preference.policy.ts';
import { storedPreferences } from '../preferences/preference.repository.ts';
import type { ChannelAdapter } from './channels/channel.adapter.ts';
import { notificationFailed, notificationSent } from './delivery.events.ts';
import { countDelivery } from './delivery.metrics.ts';

export interface DeliveryDeps {
  db: Kysely<NotificationDb>;
  adapters: ReadonlyMap<NotificationChannel, ChannelAdapter>;
  sealedBox: SealedBox;
  logger: Logger;
}

/** Thrown after a failed attempt was recorded, so the broker retries (or dead-letters) the work. */
export class DeliveryFailedError extends Error {
  constructor(notificationId: string, reason: string) {
    super(`delivery of notification ${notificationId} failed: ${reason}`);
    this.name = 'DeliveryFailedError';
  }
}

const MAX_ERROR_LENGTH = 1_000;

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

/**
 * Sends one notification. The row stays locked while the provider is called, so two workers
 * never send the same notification at once, and one found already sent (or failed) is left
 * alone: redelivered work is harmless. A failure is counted before the error propagates;
 * on the last attempt the notification becomes `failed`. Sent and failed notifications are
 * counted in `happening_notifications_total`.
 */
export async function deliverNotification(
  deps: DeliveryDeps,
  notificationId: string,
  attempt: { isLast: boolean },
): Promise<'sent' | 'skipped'> {
  const result = await deps.db.transaction().execute(async (trx) => {
    const row = await lockPending(trx, notificationId);
    if (!row) return { outcome: 'skipped' as const };
    // The preferences may have changed since the notice was written (it waited for a retry, or
    // an orgAdmin retried it days later): a channel turned off is not used.
    if (row.user_id !== null) {
      const stored = await storedPreferences(trx, [row.user_id]);
      if (!channelEnabled(row.type, row.channel, stored)) {
        await markSkipped(trx, row.id);
        return { outcome: 'skipped' as const };
      }
    }
    try {
      const adapter = deps.adapters.get(row.channel);
      if (!adapter) throw new Error(`no provider configured for ${row.channel}`);
      const { providerMessageId } = await adapter.send({
        notificationId: row.id,
        to: row.recipient,
        subject: row.subject,
        body: row.sealed_body ? deps.sealedBox.open(row.sealed_body) : row.body,
      });
      const sent = await markSent(trx, row.id, providerMessageId);
      await enqueueEvents(trx, [notificationSent(sent)]);
      return { outcome: 'sent' as const, channel: row.channel };
    } catch (error) {
      const reason = describe(error);
      const failed = await recordFailure(trx, row.id, reason, attempt.isLast);
      if (attempt.isLast) await enqueueEvents(trx, [notificationFailed(failed)]);
      return {
        outcome: attempt.isLast ? ('failed' as const) : ('retrying' as const),
        channel: row.channel,
        reason,
      };
    }
  });
  // After the commit: a rolled-back status change is not a delivery outcome.
  if (result.outcome === 'sent' || result.outcome === 'failed') {
    countDelivery(result.channel, result.outcome);
  }
  if (result.outcome === 'retrying' || result.outcome === 'failed') {
    deps.logger.warn(
      { notificationId, outcome: result.outcome, reason: result.reason },
      'notification delivery failed',
    );
    throw new DeliveryFailedError(notificationId, result.reason);
  }
  return result.outcome;
}
