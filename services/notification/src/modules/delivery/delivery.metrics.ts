import { metricsRegistry } from '@happening/service-kit';
import { Counter } from 'prom-client';
import type { NotificationChannel } from '../../domain.ts';

/** Notifications marked sent, or failed for good, by channel; counted after the commit. */
const notificationsTotal = new Counter({
  name: 'happening_notifications_total',
  help: 'Notifications delivered (sent) or given up on (failed), by channel',
  labelNames: ['channel', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** Counts one notification that reached a final status. */
export function countDelivery(channel: NotificationChannel, outcome: 'sent' | 'failed'): void {
  notificationsTotal.inc({ channel, outcome });
}
