import { deferred, eventually, type RabbitMqHandle, startRabbitMq } from '@happening/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Broker, connectBroker, type PublishError, serviceTopology } from '../src/index.ts';

// RabbitMQ's memory alarm blocks every connection that publishes: its own node, so the alarm
// holds up no other test file.
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const CONFIRM_TIMEOUT_MS = 2_000;
const pingSchema = z.object({ n: z.number().int() });

let rabbit: RabbitMqHandle;
let broker: Broker;

beforeAll(async () => {
  rabbit = await startRabbitMq();
  broker = await connectBroker({
    url: rabbit.url,
    logger,
    confirmTimeoutMs: CONFIRM_TIMEOUT_MS,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
  });
});

afterAll(async () => {
  await broker?.close();
  await rabbit?.stop();
});

/**
 * Raises the memory alarm and publishes once, which is what makes RabbitMQ block the publishing
 * connection; that publish was written before the block, so it fails on its confirm's deadline.
 */
async function blockPublishing(routingKey: string): Promise<void> {
  await rabbit.raiseMemoryAlarm();
  const error = await broker
    .publish({ routingKey, messageId: `${routingKey}-blocking`, payload: { n: -1 } })
    .catch((e: unknown) => e);
  expect((error as PublishError).code).toBe('CONFIRM_TIMEOUT');
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('broker under a memory alarm', () => {
  it('keeps consuming and acking what is queued while RabbitMQ blocks publishing', async () => {
    await broker.declare(serviceTopology('drain', { bindings: ['alarm.drain'] }));
    for (const n of range(30)) {
      await broker.publish({ routingKey: 'alarm.drain', messageId: `d-${n}`, payload: { n } });
    }
    const gate = deferred();
    const handled: number[] = [];
    // Five in flight: the rest arrive only as RabbitMQ reads the acks of the first.
    const consumer = await broker.consume({
      queue: 'drain.events',
      prefetch: 5,
      parse: (raw) => pingSchema.parse(raw),
      handler: async (ping) => {
        await gate.promise;
        handled.push(ping.n);
      },
    });
    try {
      await blockPublishing('alarm.drain');
      gate.resolve();
      await eventually(() => handled.length >= 30, {
        timeoutMs: 10_000,
        what: 'every queued message handled while blocked',
      });
      expect(handled.sort((a, b) => a - b)).toEqual(range(30));
    } finally {
      await rabbit.clearMemoryAlarm();
      await consumer.cancel();
    }
  });
});
