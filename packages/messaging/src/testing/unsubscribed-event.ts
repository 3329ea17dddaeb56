import { randomUUID } from 'node:crypto';
import { buildEvent } from '@happening/contracts';
import { eventually } from '@happening/testkit';
import type { Broker } from '../broker.ts';
import { HEADERS } from '../headers.ts';
import type { SubscribingService } from '../subscriptions.ts';
import { EVENTS_EXCHANGE } from '../topology.ts';
import { type DrainedMessage, drainQueue } from './drain-queue.ts';

/**
 * Binds `service`'s events queue by hand to `identity.user_registered`, a type it does not
 * subscribe to (as an operator's mistake would), publishes one such event as identity-org would,
 * and answers the reason it was dead-lettered with once it reaches `<service>.dlq`.
 */
export async function deadLetteredUnsubscribedEvent(
  broker: Broker,
  amqpUrl: string,
  service: SubscribingService,
): Promise<unknown> {
  await broker.declare({
    exchanges: [],
    queues: [],
    bindings: [
      {
        exchange: EVENTS_EXCHANGE,
        queue: `${service}.events`,
        routingKey: 'identity.user_registered',
      },
    ],
  });
  const userId = randomUUID();
  const registered = buildEvent(
    'identity.user_registered',
    { userId, email: `${userId}@example.test`, name: 'Ada' },
    {
      source: 'identity-org',
      aggregate: { type: 'user', id: userId, version: 1 },
      correlationId: randomUUID(),
    },
  );
  await broker.publish({
    routingKey: registered.type,
    messageId: registered.id,
    payload: registered,
  });
  const deadLettered: DrainedMessage[] = [];
  const found = await eventually(
    async () => {
      deadLettered.push(...(await drainQueue(amqpUrl, `${service}.dlq`)));
      return deadLettered.find((message) => message.messageId === registered.id);
    },
    { what: `the event in ${service}.dlq` },
  );
  return found.headers[HEADERS.error];
}
