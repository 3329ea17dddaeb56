import { buildEvent, type DomainEvent } from '@happening/contracts';
import {
  deferred,
  eventually,
  managementRequest,
  type RabbitMqHandle,
  startRabbitMq,
} from '@happening/testkit';
import amqp, { type ChannelModel, type GetMessage } from 'amqplib';
import { pino } from 'pino';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConsumerRunner } from '../src/consumer-runner.ts';
import {
  type Broker,
  connectBroker,
  EVENTS_EXCHANGE,
  eventsExchangeTopology,
  HEADERS,
  type MessageContext,
  PublishError,
  platformTopology,
  serviceTopology,
  UNROUTED_QUEUE,
  UnprocessableMessage,
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

/** A queue as the broker counts it now (`messageCount`: ready, not delivered). */
async function queueState(queue: string) {
  inspector ??= await amqp.connect(rabbit.url);
  const channel = await inspector.createChannel();
  try {
    return await channel.checkQueue(queue);
  } finally {
    await channel.close();
  }
}

/** The `happening_broker_connected` gauge as `/metrics` would show it. */
async function brokerConnectedMetric(): Promise<number | undefined> {
  const metric = await register.getSingleMetric('happening_broker_connected')?.get();
  return metric?.values[0]?.value;
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

  it('still trusts a domain event on its retry, under its first routing key', async () => {
    await broker.declare(
      serviceTopology('beta-retry', {
        bindings: ['identity.user_registered'],
        retryDelaysMs: [50],
      }),
    );
    const attempts: number[] = [];
    const consumer = await broker.consume({
      queue: 'beta-retry.events',
      handler: async (_event, context) => {
        attempts.push(context.attempt);
        if (context.attempt === 1) throw new Error('database away');
      },
    });
    const event = buildEvent(
      'identity.user_registered',
      { userId: crypto.randomUUID(), email: 'b@example.com', name: 'B' },
      {
        source: 'identity-org',
        aggregate: { type: 'user', id: 'u2', version: 1 },
        correlationId: 'c-3',
      },
    );
    await broker.publish({ routingKey: event.type, messageId: event.id, payload: event });
    await eventually(() => attempts.length === 2, { what: 'the retry handled' });
    expect(attempts).toEqual([1, 2]);
    expect(await queueState('beta-retry.dlq')).toMatchObject({ messageCount: 0 });
    await consumer.cancel();
  });

  it('parks an event no queue is bound for in happening.unrouted instead of losing it', async () => {
    await broker.publish({ routingKey: 'nobody.listens', messageId: 'm-2', payload: {} });
    const parked = await eventually(() => getOne(UNROUTED_QUEUE), { what: 'parked message' });
    expect(parked.properties.messageId).toBe('m-2');
    expect(parked.fields.routingKey).toBe('nobody.listens');
  });

  it("delivers an event published before its consumer's service ever started", async () => {
    // A publisher (say identity-org on a fresh install) starts alone and publishes at once.
    const publisher = await connectBroker({ url: rabbit.url, logger });
    await publisher.declare(platformTopology());
    const event = buildEvent(
      'identity.member_joined',
      { organizationId: crypto.randomUUID(), userId: 'owner-1', role: 'orgAdmin' },
      {
        source: 'identity-org',
        aggregate: { type: 'organization', id: 'o1', version: 1 },
        correlationId: 'c-early',
      },
    );
    await publisher.publish({ routingKey: event.type, messageId: event.id, payload: event });
    await publisher.close();

    // Later a consumer starts for the first time, declaring the same topology again.
    const consumer = await connectBroker({ url: rabbit.url, logger });
    try {
      await consumer.declare(platformTopology());
      const received: DomainEvent[] = [];
      const handle = await consumer.consume({
        queue: 'catalog.events',
        handler: async (e) => {
          received.push(e);
        },
      });
      const [got] = await eventually(() => received.length === 1 && received);
      expect(got?.id).toBe(event.id);
      await handle.cancel();
      for (const queue of ['booking.events', 'notification.events']) {
        const copy = await eventually(() => getOne(queue), { what: `event on ${queue}` });
        expect(copy.properties.messageId).toBe(event.id);
      }
      expect(await getOne(UNROUTED_QUEUE)).toBeUndefined();
    } finally {
      await consumer.close();
    }
  });

  it('creates no queue of a consumer left out of the declared ones, so none fills for it', async () => {
    // A vhost of its own: the other tests declare every consumer's queues on the default one.
    const vhost = `subset-${crypto.randomUUID()}`;
    await managementRequest(rabbit.managementUrl, 'PUT', `/api/vhosts/${vhost}`);
    await managementRequest(rabbit.managementUrl, 'PUT', `/api/permissions/${vhost}/guest`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    });
    // Booking and notification are not deployed: identity-org declares for catalog alone.
    const publisher = await connectBroker({ url: `${rabbit.url}/${vhost}`, logger });
    try {
      await publisher.declare(platformTopology(['catalog']));
      const queues = () =>
        managementRequest(rabbit.managementUrl, 'GET', `/api/queues/${vhost}`) as Promise<
          { name: string; messages?: number }[]
        >;
      expect((await queues()).map((q) => q.name).sort()).toEqual(
        [
          UNROUTED_QUEUE,
          'catalog.events',
          'catalog.retry.1',
          'catalog.retry.2',
          'catalog.retry.3',
          'catalog.dlq',
        ].sort(),
      );
      // Only notification subscribes to this one: parked, capped, instead of queued for nobody.
      const event = buildEvent(
        'identity.user_registered',
        { userId: crypto.randomUUID(), email: 'a@example.com', name: 'A' },
        {
          source: 'identity-org',
          aggregate: { type: 'user', id: 'u1', version: 1 },
          correlationId: 'c-subset',
        },
      );
      await publisher.publish({ routingKey: event.type, messageId: event.id, payload: event });
      await eventually(
        async () => (await queues()).find((q) => q.name === UNROUTED_QUEUE)?.messages === 1,
        { what: 'the event parked in happening.unrouted' },
      );
    } finally {
      await publisher.close();
      await managementRequest(rabbit.managementUrl, 'DELETE', `/api/vhosts/${vhost}`);
    }
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

  it('trusts a domain event replayed from the DLQ where its queue dead-lettered it itself', async () => {
    await broker.declare(
      serviceTopology('theta-replay', { bindings: ['identity.user_registered'], deliveryLimit: 1 }),
    );
    const event = buildEvent(
      'identity.user_registered',
      { userId: crypto.randomUUID(), email: 't@example.com', name: 'T' },
      {
        source: 'identity-org',
        aggregate: { type: 'user', id: 'u3', version: 1 },
        correlationId: 'c-4',
      },
    );
    await broker.publish({ routingKey: event.type, messageId: event.id, payload: event });
    // A consumer that dies mid-message, again and again: its deliveries come back unsettled until
    // the queue's delivery limit dead-letters the message, with the broker's x-death only.
    inspector ??= await amqp.connect(rabbit.url);
    const crashing = await inspector.createChannel();
    await eventually(
      async () => {
        const delivered = await crashing.get('theta-replay.events', { noAck: false });
        if (delivered) crashing.nack(delivered, false, true);
        return (await queueState('theta-replay.dlq')).messageCount === 1;
      },
      { what: 'the delivery limit dead-lettering it' },
    );
    await crashing.close();
    const dead = (await getOne('theta-replay.dlq'))!;
    expect(dead.properties.headers?.[HEADERS.routingKey]).toBeUndefined();

    // What the runbook's shovel does: the same message, properties and headers, into the queue.
    const channel = await inspector.createChannel();
    channel.publish('', 'theta-replay.events', dead.content, dead.properties);
    await channel.close();
    const handled: string[] = [];
    const consumer = await broker.consume({
      queue: 'theta-replay.events',
      handler: async (replayed) => {
        handled.push(replayed.id);
      },
    });
    await eventually(() => handled.length === 1, { what: 'the replayed event handled' });
    expect(handled).toEqual([event.id]);
    expect(await queueState('theta-replay.dlq')).toMatchObject({ messageCount: 0 });
    await consumer.cancel();
  });

  it('gives a message replayed from the DLQ a fresh retry cycle', async () => {
    await broker.declare(
      serviceTopology('eta', { bindings: ['test.replay'], retryDelaysMs: [50, 100] }),
    );
    let replayed = false;
    const attempts: number[] = [];
    const handled: number[] = [];
    const consumer = await broker.consume({
      queue: 'eta.events',
      parse: (raw) => pingSchema.parse(raw),
      handler: async (ping, context) => {
        attempts.push(context.attempt);
        // Fails until replayed, then once more: the replay's first delivery.
        if (!replayed || attempts.length === 1) throw new Error('downstream down');
        handled.push(ping.n);
      },
    });
    await broker.publish({ routingKey: 'test.replay', messageId: 'p-1', payload: { n: 7 } });
    const dead = await eventually(() => getOne('eta.dlq'), { what: 'DLQ message' });
    expect(attempts).toEqual([1, 2, 3]);
    expect(dead.properties.headers?.[HEADERS.attempt]).toBeUndefined();
    expect(dead.properties.headers?.[HEADERS.attempts]).toBe(3);

    // What the runbook's shovel does: the same message, properties and headers, into the queue.
    replayed = true;
    attempts.length = 0;
    const channel = await inspector.createChannel();
    channel.publish('', 'eta.events', dead.content, dead.properties);
    await channel.close();

    await eventually(() => handled.length === 1, { what: 'replayed message handled' });
    expect(handled).toEqual([7]);
    expect(attempts).toEqual([1, 2]);
    expect(await getOne('eta.dlq')).toBeUndefined();
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

  it('sends a message its handler declares unprocessable straight to the DLQ, with the reason', async () => {
    await broker.declare(
      serviceTopology('theta', { bindings: ['test.unprocessable'], retryDelaysMs: [50, 100] }),
    );
    const attempts: number[] = [];
    const consumer = await broker.consume({
      queue: 'theta.events',
      parse: (raw) => pingSchema.parse(raw),
      handler: async (_ping, context) => {
        attempts.push(context.attempt);
        throw new UnprocessableMessage('the sealed link does not open with this key');
      },
    });
    await broker.publish({ routingKey: 'test.unprocessable', messageId: 'u-1', payload: { n: 1 } });
    const dead = await eventually(() => getOne('theta.dlq'), { what: 'DLQ message' });
    expect(dead.properties.messageId).toBe('u-1');
    expect(dead.properties.headers?.[HEADERS.error]).toBe(
      'unprocessable: the sealed link does not open with this key',
    );
    expect(dead.properties.headers?.[HEADERS.attempts]).toBe(1);
    expect(attempts).toEqual([1]);
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

  it('takes no new delivery once told to stop taking, while the one in flight finishes and is acked', async () => {
    await broker.declare(serviceTopology('kappa', { bindings: ['test.leaving'] }));
    const gate = deferred();
    const leaving: number[] = [];
    let finished = false;
    const consumer = await broker.consume({
      queue: 'kappa.events',
      parse: (raw) => pingSchema.parse(raw),
      handler: async ({ n }) => {
        leaving.push(n);
        await gate.promise;
        finished = true;
      },
    });
    await broker.publish({ routingKey: 'test.leaving', messageId: 'l-1', payload: { n: 1 } });
    await eventually(() => leaving.length === 1, { what: 'the first delivery' });

    const taken: number[] = [];
    try {
      // What a service does as its shutdown starts, long before its handlers are done.
      await consumer.stopTaking();
      await broker.publish({ routingKey: 'test.leaving', messageId: 'l-2', payload: { n: 2 } });
      // The queue keeps the new message for whoever consumes next...
      expect((await queueState('kappa.events')).messageCount).toBe(1);
      // ...until another consumer (another replica) takes it; the leaving one never sees it.
      const other = await broker.consume({
        queue: 'kappa.events',
        parse: (raw) => pingSchema.parse(raw),
        handler: async ({ n }) => {
          taken.push(n);
        },
      });
      await eventually(() => taken.length === 1, { what: 'the other consumer took the message' });
      await other.cancel();
      expect(taken).toEqual([2]);
      expect(leaving).toEqual([1]);
      expect(finished).toBe(false);
    } finally {
      gate.resolve();
    }
    await consumer.cancel();
    expect(finished).toBe(true);
    // Acked on the channel kept open for it: closing that channel put nothing back.
    expect((await queueState('kappa.events')).messageCount).toBe(0);
  });

  it('reports happening_broker_connected 1 while connected; a closed broker no longer counts', async () => {
    expect(await brokerConnectedMetric()).toBe(1);
    const own = await connectBroker({ url: rabbit.url, logger });
    expect(await brokerConnectedMetric()).toBe(1);
    await own.close();
    expect(await brokerConnectedMetric()).toBe(1);
  });

  it('refuses at once an AMQP URL that cannot ever connect, without echoing it', async () => {
    for (const url of ['not a url', 'http://guest:secret@127.0.0.1:5672']) {
      const error = await connectBroker({ url, logger }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).not.toContain('secret');
    }
  });

  it('starts while the broker is down, then declares, consumes and publishes once it is up', async () => {
    await rabbit.halt();
    const late = await connectBroker({
      url: rabbit.url,
      logger,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
    });
    try {
      expect(late.isConnected()).toBe(false);
      // What a service does at start: declare, consume, and let its relay try to publish.
      await late.declare(serviceTopology('iota', { bindings: ['test.late'] }));
      const received: number[] = [];
      const consumer = await late.consume({
        queue: 'iota.events',
        parse: (raw) => pingSchema.parse(raw),
        handler: async (ping) => {
          received.push(ping.n);
        },
      });
      const offline = await late
        .publish({ routingKey: 'test.late', messageId: 'l-0', payload: { n: 0 } })
        .catch((e: unknown) => e);
      expect((offline as PublishError).code).toBe('NOT_CONNECTED');

      await rabbit.start();
      await eventually(() => late.isConnected(), { timeoutMs: 30_000, what: 'connected' });
      const queue = (await managementRequest(
        rabbit.managementUrl,
        'GET',
        '/api/queues/%2F/iota.events',
      )) as { arguments: Record<string, unknown> };
      expect(queue.arguments['x-queue-type']).toBe('quorum');
      await late.publish({ routingKey: 'test.late', messageId: 'l-1', payload: { n: 1 } });
      await eventually(() => received.includes(1), { what: 'message delivered' });
      await consumer.cancel();
    } finally {
      await late.close();
    }
    await eventually(() => broker.isConnected(), { timeoutMs: 30_000 });
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
    expect(await brokerConnectedMetric()).toBe(0);
    const offline = await broker
      .publish({ routingKey: 'test.restart', messageId: 'r-2', payload: { n: 2 } })
      .catch((e: unknown) => e);
    expect((offline as PublishError).code).toBe('NOT_CONNECTED');

    await rabbit.start();
    await eventually(() => broker.isConnected(), { timeoutMs: 30_000 });
    expect(await brokerConnectedMetric()).toBe(1);
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

describe('a consumer stopped while a failed move waits out its pause', () => {
  it('stops at once and puts the message back, not after the pause', async () => {
    const queue = `paused-${Date.now()}`;
    const connection = await amqp.connect(rabbit.url);
    try {
      const setup = await connection.createChannel();
      await setup.assertQueue(queue, { durable: false });
      setup.sendToQueue(queue, Buffer.from(JSON.stringify({ n: 1 })), { messageId: 'p-1' });
      await setup.close();
      let deliveries = 0;
      const runner = new ConsumerRunner(
        {
          queue,
          parse: (raw) => pingSchema.parse(raw),
          handler: async () => {
            deliveries++;
            throw new Error('downstream down');
          },
        },
        {
          logger,
          policy: { retryQueues: [`${queue}.retry`], deadLetterQueue: `${queue}.dlq` },
          // Not connected: the move to the retry queue fails at once, and the message waits out
          // the pause before its requeue. A pause longer than the test: only stopping ends it.
          publisher: () => undefined,
          failedMoveRequeueDelayMs: 3_600_000,
          onChannelLost: () => undefined,
        },
      );
      await runner.attach(connection);
      await eventually(() => deliveries === 1, { what: 'the first delivery' });
      await runner.stop();
      const check = await connection.createChannel();
      expect((await check.checkQueue(queue)).messageCount).toBe(1);
      await check.deleteQueue(queue);
      await check.close();
    } finally {
      await connection.close().catch(() => undefined);
    }
  });
});
