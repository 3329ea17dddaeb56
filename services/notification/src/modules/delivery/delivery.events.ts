import { buildEvent, type EventEnvelope } from '@happening/contracts';
import type { NotificationRow } from '../../database.ts';
import { errorWithoutAddresses } from './provider-text.ts';

function meta(row: NotificationRow) {
  return {
    source: 'notification' as const,
    aggregate: { type: 'notification', id: row.id, version: row.attempts },
    correlationId: row.correlation_id,
    causationId: row.source_event_id,
    ...(row.org_id ? { orgId: row.org_id } : {}),
  };
}

function facts(row: NotificationRow) {
  return {
    notificationId: row.id,
    ...(row.user_id ? { userId: row.user_id } : {}),
    channel: row.channel,
    type: row.type,
    sourceEventId: row.source_event_id,
    attempts: row.attempts,
  };
}

export function notificationSent(
  row: NotificationRow,
): EventEnvelope<'notification.notification_sent'> {
  return buildEvent(
    'notification.notification_sent',
    {
      ...facts(row),
      ...(row.provider_message_id ? { providerMessageId: row.provider_message_id } : {}),
      sentAt: (row.sent_at ?? new Date()).toISOString(),
    },
    meta(row),
  );
}

export function notificationFailed(
  row: NotificationRow,
): EventEnvelope<'notification.notification_failed'> {
  return buildEvent(
    'notification.notification_failed',
    {
      ...facts(row),
      // Any system bound to the event reads it: the person's address or number stays here.
      error: errorWithoutAddresses(row.last_error, row.recipient, row.channel) ?? 'unknown error',
    },
    meta(row),
  );
}
