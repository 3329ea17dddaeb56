import { randomUUID } from 'node:crypto';
import type { OutboxMessage } from '@happening/db';
import { EVENTS_EXCHANGE, queueTopology, type Topology } from '@happening/messaging';
import { z } from 'zod';

/** Routing key of the internal "deliver this notification" work message. */
export const DELIVERY_ROUTING_KEY = 'notification.deliver';
/** Work queue the delivery workers consume (with `.retry.<n>` queues and `.dlq`). */
export const DELIVERY_QUEUE = 'notification.delivery';
export const DELIVERY_DLQ = `${DELIVERY_QUEUE}.dlq`;

/** The work message carries only the id: the content stays in Postgres (sealed where secret). */
export const deliveryMessageSchema = z.object({
  notificationId: z.uuid(),
  correlationId: z.string().min(1),
});
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

/** An outbox row that asks a worker to deliver the notification; a fresh id per request. */
export function deliveryRequest(notificationId: string, correlationId: string): OutboxMessage {
  return {
    messageId: randomUUID(),
    routingKey: DELIVERY_ROUTING_KEY,
    payload: { notificationId, correlationId } satisfies DeliveryMessage,
    aggregateType: 'notification',
    aggregateId: notificationId,
  };
}

/** The delivery work queue, bound on `happening.events`, retried with growing delays, then dead-lettered. */
export function deliveryTopology(retryDelaysMs: readonly number[]): Topology {
  return queueTopology(DELIVERY_QUEUE, { bindings: [DELIVERY_ROUTING_KEY], retryDelaysMs });
}

/** Where the service's own outcome events are kept routable (see `outcomeTapTopology`). */
export const OUTCOME_TAP_QUEUE = 'notification.outcomes';

/**
 * A bounded queue bound to `notification.notification_sent|failed`. The broker rejects an
 * unroutable publish, and no service subscribes to these outcomes yet: without a route the outbox
 * would retry them forever and hold back later work on the same notification. Old entries expire
 * after a day and the queue keeps at most 100 000, so the tap never grows without bound.
 */
export function outcomeTapTopology(): Topology {
  return {
    exchanges: [{ name: EVENTS_EXCHANGE, type: 'topic' }],
    queues: [
      {
        name: OUTCOME_TAP_QUEUE,
        arguments: {
          'x-queue-type': 'quorum',
          'x-message-ttl': 24 * 3_600_000,
          'x-max-length': 100_000,
          'x-overflow': 'drop-head',
        },
      },
    ],
    bindings: ['notification.notification_sent', 'notification.notification_failed'].map(
      (routingKey) => ({ exchange: EVENTS_EXCHANGE, queue: OUTCOME_TAP_QUEUE, routingKey }),
    ),
  };
}
