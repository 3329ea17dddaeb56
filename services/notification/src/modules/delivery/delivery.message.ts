import { randomUUID } from 'node:crypto';
import type { OutboxMessage } from '@happening/db';
import { queueTopology, type Topology } from '@happening/messaging';
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
