import type { DomainEvent } from '@happening/contracts';
import amqp from 'amqplib';
import { EVENTS_EXCHANGE, EVENTS_EXCHANGE_OPTIONS } from '../topology.ts';

/** Every domain event a test queue received, in arrival order. */
export interface CapturedEvents {
  readonly events: DomainEvent[];
  close(): Promise<void>;
}

/**
 * Binds an exclusive queue to `happening.events` for the given routing keys (topic patterns) and
 * records what arrives, so tests can assert on the events a service really published. Bind it
 * before the service's relay starts, so the first event already has somewhere to go.
 */
export async function captureEvents(amqpUrl: string, patterns: string[]): Promise<CapturedEvents> {
  const connection = await amqp.connect(amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(EVENTS_EXCHANGE, 'topic', EVENTS_EXCHANGE_OPTIONS);
  const { queue } = await channel.assertQueue('', { exclusive: true });
  for (const pattern of patterns) await channel.bindQueue(queue, EVENTS_EXCHANGE, pattern);
  const events: DomainEvent[] = [];
  await channel.consume(queue, (message) => {
    if (message === null) return;
    events.push(JSON.parse(message.content.toString()) as DomainEvent);
    channel.ack(message);
  });
  return {
    events,
    async close() {
      await connection.close().catch(() => undefined);
    },
  };
}
