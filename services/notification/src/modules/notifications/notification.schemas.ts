import { pageSchema, requestIdSchema } from '@happening/contracts';
import { cursorTimestamp, pageQuerySchema } from '@happening/service-kit';
import { z } from 'zod';
import type { NotificationRow } from '../../database.ts';
import { NOTIFICATION_CHANNELS, NOTIFICATION_STATUSES, NOTIFICATION_TYPES } from '../../domain.ts';
import { errorWithoutAddresses } from '../delivery/provider-text.ts';

export const notificationView = z.object({
  id: z.uuid(),
  type: z.enum(NOTIFICATION_TYPES),
  channel: z.enum(NOTIFICATION_CHANNELS),
  status: z.enum(NOTIFICATION_STATUSES),
  recipient: z.string(),
  subject: z.string(),
  /** As stored: secrets such as an invite's accept link are replaced by a placeholder. */
  body: z.string(),
  orgId: z.uuid().nullable(),
  eventId: z.uuid().nullable(),
  bookingId: z.uuid().nullable(),
  attempts: z.number().int(),
  createdAt: z.iso.datetime(),
  sentAt: z.iso.datetime().nullable(),
});
export type NotificationView = z.infer<typeof notificationView>;

/**
 * A notification as an organization's orgAdmins read it (its list, a retry's answer): what it
 * was, where it stands and why its last attempt failed, without the person's contact details or
 * the message (those of anyone who booked the organization's events, members or not).
 */
export const orgNotificationView = notificationView
  .omit({ recipient: true, body: true })
  .extend({ lastError: z.string().nullable() });
export const orgNotificationPage = pageSchema(orgNotificationView);

export const listQuery = pageQuerySchema.extend({
  status: z.enum(NOTIFICATION_STATUSES).optional(),
});
export const notificationPage = pageSchema(notificationView);
export const listCursor = z.object({ createdAt: cursorTimestamp, id: z.uuid() });
export const notificationParams = z.object({ id: requestIdSchema });
export const orgParams = z.object({ orgId: requestIdSchema });

export function toOrgView(row: NotificationRow): z.infer<typeof orgNotificationView> {
  const { recipient, body: _body, ...view } = toView(row);
  return { ...view, lastError: errorWithoutAddresses(row.last_error, recipient, row.channel) };
}

export function toView(row: NotificationRow): NotificationView {
  return {
    id: row.id,
    type: row.type,
    channel: row.channel,
    status: row.status,
    recipient: row.recipient,
    subject: row.subject,
    body: row.body,
    orgId: row.org_id,
    eventId: row.event_id,
    bookingId: row.booking_id,
    attempts: row.attempts,
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
  };
}
