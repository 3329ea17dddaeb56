import { NOTIFICATION_CHANNELS, NOTIFICATION_TYPES } from '@happening/contracts';

export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

export const NOTIFICATION_STATUSES = ['pending', 'sent', 'failed', 'skipped'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];
/** Statuses nothing will change any more, but an orgAdmin's retry of a failed one. */
export const FINISHED_STATUSES: readonly NotificationStatus[] = NOTIFICATION_STATUSES.filter(
  (status) => status !== 'pending',
);

export { NOTIFICATION_CHANNELS, NOTIFICATION_TYPES };
