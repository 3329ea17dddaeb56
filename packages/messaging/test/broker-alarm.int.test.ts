import { deferred, eventually, type RabbitMqHandle, startRabbitMq } from '@happening/testkit';
import amqp, { type ChannelModel } from 'amqplib';
import { pino } from 'pino';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type Broker,
  type ConsumerHandle,
  connectBroker,
  PublishError,
  serviceTopology,
  UnprocessableMessage,
} from '../src/index.ts';

// RabbitMQ's memory alarm blocks every connection that publishes: its own node, so the alarm
// holds up no other test file.
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const CONFIRM_TIMEOUT_MS = 2_000;
const pingSchema = z.object({ n: z.number().int() });

let rabbit: RabbitMqHandle;
let broker: Broker;
let inspector: ChannelModel;

beforeAll(async () => {
  rabbit = await startRabbitMq();
  broker = await connectBroker({
    url: rabbit.url,
    logger,
    confirmTimeoutMs: CONFIRM_TIMEOUT_MS,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
  });
  inspector = await amqp.connect(rabbit.url);
});

afterAll(async () => {
  await inspector?.close().catch(() => undefined);
  await broker?.close();
  await rabbit?.stop();
});

async function blockedMetric(): Promise<number | undefined> {
  const metric = await register.getSingleMetric('happening_broker_blocked')?.get();
  return metric?.values[0]?.value;
}

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

/** The message ids in `queue`, in order, up to and including `last` (taken off the queue). */
async function messageIdsUntil(queue: string, last: string): Promise<string[]> {
  const channel = await inspector.createChannel();
  const ids: string[] = [];
  try {
    await channel.consume(queue, (message) => message && ids.push(message.properties.messageId), {
      noAck: true,
    });
    await eventually(() => ids.includes(last), { what: `${last} in ${queue}` });
    return ids;
  } finally {
    await channel.close();
  }
}

async function queueDepth(queue: string): Promise<number> {
  const channel = await inspector.createChannel();
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await channel.close();
  }
}

async function counterValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = await register.getSingleMetric(name)?.get();
  const matches = (value: { labels: Record<string, unknown> }) =>
    Object.entries(labels).every(([label, wanted]) => value.labels[label] === wanted);
  return metric?.values.find(matches)?.value ?? 0;
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

  it('rejects publishes at once while blocked, buffers none, and publishes again once unblocked', async () => {
    await broker.declare(serviceTopology('refuse', { bindings: ['alarm.refuse'] }));
    try {
      await blockPublishing('alarm.refuse');
      const errors = await Promise.all(
        range(100).map((n) =>
          broker
            .publish({ routingKey: 'alarm.refuse', messageId: `r-${n}`, payload: { n } })
            .catch((e: unknown) => e),
        ),
      );
      for (const error of errors) {
        expect(error).toBeInstanceOf(PublishError);
        expect((error as PublishError).code).toBe('BLOCKED');
      }
      expect(await blockedMetric()).toBe(1);
    } finally {
      await rabbit.clearMemoryAlarm();
    }
    await eventually(async () => (await blockedMetric()) === 0, { what: 'blocked metric 0' });
    await broker.publish({ routingKey: 'alarm.refuse', messageId: 'r-after', payload: { n: 0 } });
    // The publish that got the connection blocked had been written: it arrives. The refused never do.
    expect(await messageIdsUntil('refuse.events', 'r-after')).toEqual([
      'alarm.refuse-blocking',
      'r-after',
    ]);
  });

  it('never sends a publish that waited for the buffer to drain past its deadline', async () => {
    await broker.declare(serviceTopology('drainwait', { bindings: ['alarm.drainwait'] }));
    const count = 3_000;
    const outcomes = new Map<number, 'sent' | PublishError>();
    await rabbit.raiseMemoryAlarm();
    try {
      // One burst in one tick, before RabbitMQ read its first message and blocked the connection:
      // it fills amqplib's buffer, so its end waits for a drain, which cannot come while RabbitMQ
      // reads nothing (24 MB, more than the sockets hold).
      const body = 'x'.repeat(8_000);
      for (const n of range(count)) {
        broker
          .publish({ routingKey: 'alarm.drainwait', messageId: `w-${n}`, payload: { n, body } })
          .then(
            () => outcomes.set(n, 'sent'),
            (error: PublishError) => outcomes.set(n, error),
          );
      }
      await eventually(() => outcomes.size === count, {
        timeoutMs: CONFIRM_TIMEOUT_MS + 5_000,
        what: 'every publish of the burst settled while blocked',
      });
    } finally {
      await rabbit.clearMemoryAlarm();
    }
    const written: string[] = [];
    const unsent: string[] = [];
    for (const [n, outcome] of [...outcomes].sort(([a], [b]) => a - b)) {
      expect(outcome).toBeInstanceOf(PublishError);
      const { code, message } = outcome as PublishError;
      expect(code).toBe('CONFIRM_TIMEOUT');
      (message.includes('not sent within') ? unsent : written).push(`w-${n}`);
    }
    expect(unsent).toContain(`w-${count - 1}`);
    await broker.publish({
      routingKey: 'alarm.drainwait',
      messageId: 'w-after',
      payload: { n: 0 },
    });
    // What was written before the block arrives once RabbitMQ reads again; what waited never does.
    expect(await messageIdsUntil('drainwait.events', 'w-after')).toEqual([...written, 'w-after']);
  });

  it('requeues a message it cannot move while blocked only after a pause, not spending its delivery limit', async () => {
    await broker.declare(serviceTopology('paced', { bindings: ['alarm.paced'] }));
    await broker.publish({ routingKey: 'alarm.paced', messageId: 'p-1', payload: { n: 1 } });
    let consumer: ConsumerHandle | undefined;
    try {
      await blockPublishing('alarm.paced');
      let deliveries = 0;
      consumer = await broker.consume({
        queue: 'paced.events',
        parse: (raw) => pingSchema.parse(raw),
        handler: async () => {
          deliveries++;
          throw new Error('downstream down');
        },
      });
      // Its move to the retry queue is refused at once; requeued at once, it would come back
      // every few milliseconds until the queue's delivery limit (10) dead-letters it. A slow
      // machine delivers it fewer times in the window, never more.
      await eventually(() => deliveries >= 1, { what: 'the first delivery' });
      await new Promise((resolve) => setTimeout(resolve, CONFIRM_TIMEOUT_MS * 1.5));
      expect(deliveries).toBeLessThanOrEqual(2);
    } finally {
      await rabbit.clearMemoryAlarm();
      await consumer?.cancel();
    }
  });

  // Its waits (a refused move's pause, the DLQ on a loaded broker) can pass the default 60 s when
  // other suites share the machine: a bound against hanging, not a measure.
  it('counts a message as dead-lettered once, not once for every move refused while blocked', async () => {
    await broker.declare(serviceTopology('poison', { bindings: ['alarm.poison'] }));
    await broker.publish({ routingKey: 'alarm.poison', messageId: 'x-1', payload: { n: 1 } });
    let deliveries = 0;
    let consumer: ConsumerHandle | undefined;
    try {
      // Blocked by a publish no queue of this test takes: one routed to poison.events would be a
      // second poison message once the alarm clears.
      await blockPublishing('alarm.elsewhere');
      consumer = await broker.consume({
        queue: 'poison.events',
        parse: (raw) => pingSchema.parse(raw),
        handler: async () => {
          deliveries++;
          throw new UnprocessableMessage('poison');
        },
      });
      // Delivered again only once its move to the DLQ was refused and it was requeued.
      await eventually(() => deliveries >= 2, { what: 'a delivery after a refused move' });
    } finally {
      await rabbit.clearMemoryAlarm();
    }
    // Each refused move waits out a pause before its requeue, and a loaded broker confirms slowly.
    await eventually(async () => (await queueDepth('poison.dlq')) >= 1, {
      timeoutMs: 45_000,
      what: 'the message in the DLQ',
    });
    // Waits for the running handler, so every count it makes is in.
    await consumer?.cancel();
    expect(await queueDepth('poison.dlq')).toBe(1);
    const queue = 'poison.events';
    expect(await counterValue('happening_dlq_messages_total', { queue })).toBe(1);
    expect(
      await counterValue('happening_consumer_messages_total', { queue, outcome: 'dead_lettered' }),
    ).toBe(1);
    // Every delivery before the last ended with its move refused and the message requeued.
    expect(
      await counterValue('happening_consumer_messages_total', { queue, outcome: 'requeued' }),
    ).toBe(deliveries - 1);
  }, 120_000);
});
