import { buildEvent, type DomainEvent } from '@happening/contracts';
import { deferred, eventually, type RabbitMqHandle, startRabbitMq } from '@happening/testkit';
import amqp, { type ChannelModel, type GetMessage } from 'amqplib';
import { pino } from 'pino';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type Broker,
  brokerReadiness,
  connectBroker,
  EVENTS_EXCHANGE,
  eventsExchangeTopology,
  HEADERS,
  type MessageContext,
  PublishError,
  serviceTopology,
  UNROUTED_QUEUE,
} from '../src/index.ts';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const pingSchema = z.object({ n: z.number().int(), correlationId: z.string().optional() });
type Ping = z.infer<typeof pingSchema>;

let rabbit: RabbitMqHandle;
let broker: Broker;
let inspector: ChannelModel;

beforeAll(async () => {
  rabbit = await startRabbitMq();
  broker = await connectBroker({
    url: rabbit.url,
    logger,
    confirmTimeoutMs: 2_000,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
  });
});

afterAll(async () => {
  await inspector?.close().catch(() => undefined);
  await broker?.close();
  await rabbit?.stop();
});

async function getOne(queue: string): Promise<GetMessage | undefined> {
  inspector ??= await amqp.connect(rabbit.url);
  const channel = await inspector.createChannel();
  try {
    const message = await channel.get(queue, { noAck: true });
    return message || undefined;
  } finally {
    await channel.close();
  }
}

describe('broker', () => {
  it('delivers a published message with its id and correlation id', async () => {
    await broker.declare(serviceTopology('alpha', { bindings: ['test.ping'] }));
    const received: Array<{ ping: Ping; context: MessageContext }> = [];
    const consumer = await broker.consume({
      queue: 'alpha.events',
      parse: (raw) => pingSchema.parse(raw),
      handler: async (ping, context) => {
        received.push({ ping, context });
      },
    });
    await broker.publish({
      routingKey: 'test.ping',
      messageId: 'm-1',
      payload: { n: 1, correlationId: 'corr-1' },
    });
    const [first] = await eventually(() => received.length === 1 && received);
    expect(first?.ping.n).toBe(1);
    expect(first?.context).toMatchObject({
      messageId: 'm-1',
      routingKey: 'test.ping',
      attempt: 1,
      correlationId: 'corr-1',
    });
    await consumer.cancel();
  });

  it('parses with the contracts by default', async () => {
    await broker.declare(serviceTopology('beta', { bindings: ['identity.user_registered'] }));
    const received: DomainEvent[] = [];
    const consumer = await broker.consume({
      queue: 'beta.events',
      handler: async (event) => {
        received.push(event);
      },
    });
    const event = buildEvent(
      'identity.user_registered',
      { userId: crypto.randomUUID(), email: 'a@example.com', name: 'A' },
      {
        source: 'identity-org',
        aggregate: { type: 'user', id: 'u1', version: 1 },
        correlationId: 'c-2',
      },
    );
    await broker.publish({ routingKey: event.type, messageId: event.id, payload: event });
    const [got] = await eventually(() => received.length === 1 && received);
    expect(got?.id).toBe(event.id);
    await consumer.cancel();
  });

  it('parks an event no queue is bound for in happening.unrouted instead of losing it', async () => {
    await broker.publish({ routingKey: 'nobody.listens', messageId: 'm-2', payload: {} });
    const parked = await eventually(() => getOne(UNROUTED_QUEUE), { what: 'parked message' });
    expect(parked.properties.messageId).toBe('m-2');
    expect(parked.fields.routingKey).toBe('nobody.listens');
  });

  it('rejects a publish an exchange without an alternate cannot route', async () => {
    await broker.declare({
      exchanges: [{ name: 'strict', type: 'topic' }],
      queues: [],
      bindings: [],
    });
    const error = await broker
      .publish({ exchange: 'strict', routingKey: 'nobody.listens', messageId: 'm-2b', payload: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).code).toBe('UNROUTABLE');
  });

  it('rejects a publish the broker nacks', async () => {
    await broker.declare({
      exchanges: eventsExchangeTopology().exchanges,
      queues: [{ name: 'full', arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } }],
      bindings: [{ exchange: EVENTS_EXCHANGE, queue: 'full', routingKey: 'test.full' }],
    });
    const error = await broker
      .publish({ routingKey: 'test.full', messageId: 'm-3', payload: {} })
      .catch((e: unknown) => e);
    expect((error as PublishError).code).toBe('NACKED');
  });

  it('dead-letters a message whose handler always fails, after its retries, and keeps flowing', async () => {
    await broker.declare(
      serviceTopology('gamma', { bindings: ['test.work'], retryDelaysMs: [50, 100] }),
    );
    const attempts: number[] = [];
    const handled: number[] = [];
    const consumer = await broker.consume({
      queue: 'gamma.events',
      parse: (raw) => pingSchema.parse(raw),
      handler: async (ping, context) => {
        if (ping.n === 0) {
          attempts.push(context.attempt);
          throw new Error('poison pill');
        }
        handled.push(ping.n);
      },
    });
    for (const n of [0, 1, 2, 3]) {
      await broker.publish({ routingKey: 'test.work', messageId: `w-${n}`, payload: { n } });
    }
    await eventually(() => handled.length === 3);
    expect(handled.sort()).toEqual([1, 2, 3]);
    const dead = await eventually(() => getOne('gamma.dlq'), { what: 'DLQ message' });
    expect(dead.properties.messageId).toBe('w-0');
    expect(dead.properties.headers?.[HEADERS.error]).toBe('poison pill');
    expect(dead.properties.headers?.[HEADERS.routingKey]).toBe('test.work');
    expect(JSON.parse(dead.content.toString())).toEqual({ n: 0 });
    expect(attempts).toEqual([1, 2, 3]);
    const metrics = await register.getMetricsAsJSON();
    const metricValue = (name: string, labels: Record<string, string>) =>
      metrics
        .find((m) => m.name === name)
        ?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    expect(
      metricValue('happening_consumer_messages_total', {
        queue: 'gamma.events',
        outcome: 'processed',
      }),
    ).toBe(3);
    expect(
      metricValue('happening_consumer_messages_total', {
        queue: 'gamma.events',
        outcome: 'retried',
      }),
    ).toBe(2);
    expect(metricValue('happening_dlq_messages_total', { queue: 'gamma.events' })).toBe(1);
    await consumer.cancel();
  });

  it('sends a message failing its schema straight to the DLQ', async () => {
    await broker.declare(serviceTopology('delta', { bindings: ['test.bad'] }));
    let calls = 0;
    const consumer = await broker.consume({
      queue: 'delta.events',
      parse: (raw) => pingSchema.parse(raw),
      handler: async () => {
        calls++;
      },
    });
    await broker.publish({ routingKey: 'test.bad', messageId: 'b-1', payload: { n: 'x' } });
    const dead = await eventually(() => getOne('delta.dlq'), { what: 'DLQ message' });
    expect(dead.properties.messageId).toBe('b-1');
    expect(String(dead.properties.headers?.[HEADERS.error])).toMatch(/^parse failed: .*"n"/s);
    expect(dead.properties.headers?.[HEADERS.attempt]).toBeUndefined();
    expect(calls).toBe(0);
    await consumer.cancel();
  });

  it('waits for running handlers when a consumer stops, and acks what they finished', async () => {
    await broker.declare(serviceTopology('zeta', { bindings: ['test.slow'] }));
    const gate = deferred();
    let started = false;
    let finished = false;
    const consumer = await broker.consume({
      queue: 'zeta.events',
      parse: (raw) => pingSchema.parse(raw),
      handler: async () => {
        started = true;
        await gate.promise;
        finished = true;
      },
    });
    await broker.publish({ routingKey: 'test.slow', messageId: 's-1', payload: { n: 1 } });
    await eventually(() => started);
    let stopped = false;
    const stopping = consumer.cancel().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(finished).toBe(true);
    expect(await getOne('zeta.events')).toBeUndefined();
  });

  it('is ready while connected to RabbitMQ and not once the connection is gone', async () => {
    const own = await connectBroker({ url: rabbit.url, logger });
    const ready = brokerReadiness(own);
    await expect(ready()).resolves.toBeUndefined();
    await own.close();
    await expect(ready()).rejects.toThrow('not connected to RabbitMQ');
  });

  it('reconnects after a broker restart, re-declares and resumes consuming', async () => {
    await broker.declare(serviceTopology('epsilon', { bindings: ['test.restart'] }));
    const received: number[] = [];
    const consumer = await broker.consume({
      queue: 'epsilon.events',
      parse: (raw) => pingSchema.parse(raw),
      handler: async (ping) => {
        received.push(ping.n);
      },
    });
    await broker.publish({ routingKey: 'test.restart', messageId: 'r-1', payload: { n: 1 } });
    await eventually(() => received.includes(1));

    await rabbit.halt();
    await eventually(() => !broker.isConnected());
    const offline = await broker
      .publish({ routingKey: 'test.restart', messageId: 'r-2', payload: { n: 2 } })
      .catch((e: unknown) => e);
    expect((offline as PublishError).code).toBe('NOT_CONNECTED');

    await rabbit.start();
    await eventually(() => broker.isConnected(), { timeoutMs: 30_000 });
    await eventually(
      () =>
        broker
          .publish({ routingKey: 'test.restart', messageId: 'r-3', payload: { n: 3 } })
          .then(() => true),
      { timeoutMs: 30_000 },
    );
    await eventually(() => received.includes(3), { timeoutMs: 30_000 });
    await consumer.cancel();
  });
});
