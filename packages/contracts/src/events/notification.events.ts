import { z } from 'zod';

export const NOTIFICATION_CHANNELS = ['email', 'sms', 'push'] as const;
export const NOTIFICATION_TYPES = [
  'booking_confirmed',
  'booking_waitlisted',
  'booking_cancelled',
  'waitlist_promoted',
  'event_updated',
  'event_cancelled',
  'org_invite',
] as const;

export const notificationChannelSchema = z.enum(NOTIFICATION_CHANNELS);
export const notificationTypeSchema = z.enum(NOTIFICATION_TYPES);

const notificationFacts = z.object({
  notificationId: z.uuid(),
  userId: z.string().min(1).optional(),
  channel: notificationChannelSchema,
  type: notificationTypeSchema,
  sourceEventId: z.uuid(),
  attempts: z.number().int().nonnegative(),
});

export const notificationSentV1 = notificationFacts.extend({
  providerMessageId: z.string().optional(),
  sentAt: z.iso.datetime({ offset: true }),
});

export const notificationFailedV1 = notificationFacts.extend({ error: z.string() });
