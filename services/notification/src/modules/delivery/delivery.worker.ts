import { randomUUID } from 'node:crypto';
import type { SealedBox } from '@happening/contracts';
import { enqueueEvents } from '@happening/db';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { NotificationDb, NotificationRow } from '../../database.ts';
import type { NotificationChannel } from '../../domain.ts';
import {
  claimForDelivery,
  markSent,
  markSkipped,
  readdress,
  recordFailure,
  renewLease,
  SKIP_REASONS,
} from '../notifications/notification.repository.ts';
import { channelEnabled } from '../preferences/preference.policy.ts';
import { storedPreferences } from '../preferences/preference.repository.ts';
import { findRecipients } from '../recipients/recipient.repository.ts';
import { publishGivenUp, reportGivenUp } from './abandoned-send.ts';
import { type ChannelAdapter, PermanentRejection } from './channels/channel.adapter.ts';
import { notificationFailed, notificationSent } from './delivery.events.ts';
import { countDelivery } from './delivery.metrics.ts';
import { overtakenBy } from './overtaken.policy.ts';
import { sinceWritten } from './overtaken.repository.ts';
import {
  errorWithoutAddresses,
  MAX_ERROR_LENGTH,
  MAX_PROVIDER_ID_LENGTH,
  storableText,
} from './provider-text.ts';
import { sendAddress } from './send-address.policy.ts';

export interface DeliveryDeps {
  db: Kysely<NotificationDb>;
  adapters: ReadonlyMap<NotificationChannel, ChannelAdapter>;
  sealedBox: SealedBox;
  logger: Logger;
  /** How long a claim on a notification holds unless renewed (every third of it); 30 s by default. */
  leaseMs?: number;
  /** Attempts a notification has (DELIVERY_RETRY_DELAYS_MS + 1), abandoned sends counted. */
  maxAttempts: number;
}

/** Thrown after a failed attempt was recorded, so the broker retries (or dead-letters) the work. */
export class DeliveryFailedError extends Error {
  constructor(notificationId: string, reason: string) {
    super(`delivery of notification ${notificationId} failed: ${reason}`);
    this.name = 'DeliveryFailedError';
  }
}

const DEFAULT_LEASE_MS = 30_000;

/** The failure as stored: a provider's answer may carry what Postgres refuses (see storableText). */
function describe(error: unknown): string {
  return storableText(error instanceof Error ? error.message : String(error), MAX_ERROR_LENGTH);
}

/**
 * Sends one notification. No database connection is held while the provider is called: a short
 * transaction claims the notification with a lease, the worker sends and keeps the lease renewed,
 * and a second short transaction records the outcome. So two workers never send one notification
 * at once, and one found sent, failed, skipped or leased is left alone: redelivered work is
 * harmless. A lease found run out was a send that ended unrecorded: the claim counts it, and when
 * it was the last attempt gives the notification up (`failed`, with `notification_failed`) and
 * resolves `'failed'` without sending. A failure is counted before the error propagates for the
 * broker to retry; on the last attempt the notification becomes `failed`. A permanent rejection
 * (an unknown mailbox, an invalid number) makes it `failed` at once and resolves `'failed'`:
 * there is nothing to retry or dead-letter. Sent and failed notifications are counted in
 * `happening_notifications_total`.
 */
export async function deliverNotification(
  deps: DeliveryDeps,
  notificationId: string,
  attempt: { isLast: boolean },
): Promise<'sent' | 'skipped' | 'failed'> {
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const token = randomUUID();
  const claimed = await claim(deps, notificationId, token, leaseMs);
  if (!claimed) return 'skipped';
  if ('gaveUp' in claimed) {
    // After the commit, as the sweep reports those it gives up.
    reportGivenUp(deps.logger, [claimed.gaveUp]);
    return 'failed';
  }
  const row = claimed.send;

  let accepted: { providerMessageId: string | null } | undefined;
  let reason = '';
  let permanent = false;
  try {
    accepted = await whileLeased(deps, row.id, token, leaseMs, () => send(deps, row));
  } catch (error) {
    reason = describe(error);
    permanent = error instanceof PermanentRejection;
  }

  if (accepted) {
    // A crash (or a failed commit) from here on leaves the lease to run out: the notification
    // is sent again, at least once (see docs/services/notification.md).
    const providerMessageId =
      accepted.providerMessageId === null
        ? null
        : storableText(accepted.providerMessageId, MAX_PROVIDER_ID_LENGTH);
    const sent = await deps.db.transaction().execute(async (trx) => {
      const updated = await markSent(trx, row.id, providerMessageId);
      if (updated) await enqueueEvents(trx, [notificationSent(updated)]);
      return updated;
    });
    if (sent) countDelivery(row.channel, 'sent');
    else {
      deps.logger.warn(
        { notificationId, channel: row.channel },
        'the provider accepted a notification settled meanwhile (its lease ran out); it stays as settled',
      );
    }
    return 'sent';
  }

  const final = attempt.isLast || permanent;
  // What the logs and the dead-letter header say: the answer without the person's address.
  const shownReason = errorWithoutAddresses(reason, row.recipient, row.channel);
  const failed = await deps.db.transaction().execute(async (trx) => {
    const updated = await recordFailure(trx, row.id, token, reason, final);
    if (updated && final) await enqueueEvents(trx, [notificationFailed(updated)]);
    return updated;
  });
  if (!failed) {
    // The lease ran out during the send and the sweep handed the notification out again.
    deps.logger.warn(
      { notificationId, reason: shownReason },
      'notification delivery failed after its lease',
    );
    return 'skipped';
  }
  // After the commit: a rolled-back status change is not a delivery outcome.
  if (final) countDelivery(row.channel, 'failed');
  const outcome = permanent ? 'rejected' : attempt.isLast ? 'failed' : 'retrying';
  deps.logger.warn(
    { notificationId, outcome, reason: shownReason },
    'notification delivery failed',
  );
  // A recorded, final refusal is no message nobody could handle: acknowledged, not dead-lettered.
  if (permanent) return 'failed';
  throw new DeliveryFailedError(notificationId, shownReason);
}

/**
 * Claims a pending notification, in a short transaction of its own, and settles where it goes.
 * A lease it finds run out is counted as an attempt (`claimForDelivery`); when that was the last,
 * the notification is given up there (`gaveUp`, its `notification_failed` in the same
 * transaction) and not sent again. Much may have changed since the notice was written (it waited
 * for a retry, or an orgAdmin retried it days later): a channel its person turned off is not
 * used, and a notice overtaken by what happened since (its booking or event cancelled, a newer
 * notice sent, see `overtakenBy`) is not sent after it; either becomes `skipped`, with the
 * reason. And the person's email or phone may have changed: it goes to the address they have now
 * (see `sendAddress`), stored as the notification's recipient.
 */
async function claim(
  deps: DeliveryDeps,
  notificationId: string,
  token: string,
  leaseMs: number,
): Promise<{ send: NotificationRow } | { gaveUp: NotificationRow } | undefined> {
  return deps.db.transaction().execute(async (trx) => {
    const row = await claimForDelivery(trx, notificationId, token, leaseMs, deps.maxAttempts);
    if (!row) return undefined;
    if (row.status === 'failed') {
      await publishGivenUp(trx, [row]);
      return { gaveUp: row };
    }
    if (row.user_id === null) return { send: row };
    const stored = await storedPreferences(trx, [row.user_id]);
    if (!channelEnabled(row.type, row.channel, stored)) {
      await markSkipped(trx, row.id, SKIP_REASONS.channelOff);
      return undefined;
    }
    const overtaken = overtakenBy(
      {
        type: row.type,
        eventId: row.event_id,
        bookingId: row.booking_id,
        bookingVersion: row.booking_version,
        eventVersion: row.event_version,
      },
      await sinceWritten(trx, row),
    );
    if (overtaken) {
      await markSkipped(trx, row.id, overtaken);
      deps.logger.info({ notificationId, reason: overtaken }, 'notification overtaken, skipped');
      return undefined;
    }
    const [current] = await findRecipients(trx, [row.user_id]);
    const address = sendAddress(
      { type: row.type, channel: row.channel, userId: row.user_id, recipient: row.recipient },
      current,
    );
    if (address === row.recipient) return { send: row };
    const readdressed = await readdress(trx, row.id, address);
    if (!readdressed) {
      await markSkipped(trx, row.id, SKIP_REASONS.addressTaken);
      return undefined;
    }
    return { send: readdressed };
  });
}

function send(deps: DeliveryDeps, row: NotificationRow) {
  const adapter = deps.adapters.get(row.channel);
  if (!adapter) throw new Error(`no provider configured for ${row.channel}`);
  return adapter.send({
    notificationId: row.id,
    to: row.recipient,
    subject: row.subject,
    body: row.sealed_body ? deps.sealedBox.open(row.sealed_body) : row.body,
  });
}

/** Runs `work` while renewing the lease, however long a provider takes to answer. */
async function whileLeased<T>(
  deps: DeliveryDeps,
  notificationId: string,
  token: string,
  leaseMs: number,
  work: () => Promise<T>,
): Promise<T> {
  const renewal = setInterval(() => {
    renewLease(deps.db, notificationId, token, leaseMs).then(
      (held) => {
        if (!held) deps.logger.warn({ notificationId }, 'delivery lease lost during the send');
      },
      (error: unknown) =>
        deps.logger.warn({ notificationId, err: error }, 'delivery lease not renewed'),
    );
  }, leaseMs / 3);
  try {
    return await work();
  } finally {
    clearInterval(renewal);
  }
}
