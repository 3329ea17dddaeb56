import { eventually, type RabbitMqHandle, startRabbitMq } from '@happening/testkit';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { pino } from 'pino';
import { register } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Broker, connectBroker, serviceTopology } from '../src/index.ts';
import { type AmqpProxy, METHODS, startAmqpProxy } from './amqp-proxy.ts';

// Connections closed at exact points of their setup, through a proxy that reads the AMQP frames.
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const pingSchema = z.object({ n: z.number().int() });

let rabbit: RabbitMqHandle;
let inspector: ChannelModel;
let channel: Channel;
let proxy: AmqpProxy | undefined;
/** The broker a test opened, closed after it. */
let opened: Broker | undefined;

beforeAll(async () => {
  rabbit = await startRabbitMq();
  inspector = await amqp.connect(rabbit.url);
  channel = await inspector.createChannel();
});

afterEach(async () => {
  await opened?.close();
  await proxy?.close();
  opened = undefined;
  proxy = undefined;
});

afterAll(async () => {
  await inspector?.close().catch(() => undefined);
  await rabbit?.stop();
});

async function connectThroughProxy(): Promise<Broker> {
  if (!proxy) throw new Error('start the proxy first');
  opened = await connectBroker({
    url: proxy.url,
    logger,
    confirmTimeoutMs: 2_000,
    reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
  });
  return opened;
}

async function brokerConnectedMetric(): Promise<number | undefined> {
  const metric = await register.getSingleMetric('happening_broker_connected')?.get();
  return metric?.values[0]?.value;
}

describe('broker connections closed while being set up', () => {
  it('reconnects a publishing connection closed right after its publish channel opened', async () => {
    proxy = await startAmqpProxy(rabbit.url);
    // The last setup call of the publishing connection succeeds, and the connection closes at once.
    proxy.closeAfter(METHODS.confirmSelectOk);
    const broker = await connectThroughProxy();
    await broker.declare(serviceTopology('setupcut', { bindings: ['setupcut.ping'] }));
    await eventually(
      () =>
        broker
          .publish({ routingKey: 'setupcut.ping', messageId: 's-1', payload: { n: 1 } })
          .then(() => true),
      { what: 'a publish to succeed' },
    );
    const message = await channel.get('setupcut.events', { noAck: true });
    expect(message).not.toBe(false);
    expect(message ? message.properties.messageId : undefined).toBe('s-1');
    expect(broker.isConnected()).toBe(true);
    expect(await brokerConnectedMetric()).toBe(1);
  });

  it('re-attaches consumers when the consuming connection closes while they are attached to it', async () => {
    proxy = await startAmqpProxy(rabbit.url);
    const broker = await connectThroughProxy();
    await broker.declare(serviceTopology('attachcut', { bindings: ['attachcut.ping'] }));
    const received: number[] = [];
    await broker.consume({
      queue: 'attachcut.events',
      parse: (raw) => pingSchema.parse(raw),
      handler: async (ping) => {
        received.push(ping.n);
      },
    });
    // Reconnecting, the consumer's attach is the last step; its connection closes right after it.
    proxy.closeAfter(METHODS.basicConsumeOk);
    proxy.dropAll();
    channel.sendToQueue('attachcut.events', Buffer.from(JSON.stringify({ n: 1 })), {
      messageId: 'a-1',
    });
    await eventually(() => received.includes(1), { what: 'the message consumed' });
    await eventually(() => broker.isConnected(), { what: 'connected' });
    expect(await brokerConnectedMetric()).toBe(1);
  });

  it.each([
    { step: 'basic.qos', held: METHODS.basicQos },
    { step: 'basic.consume', held: METHODS.basicConsume },
  ])('does not consume after a consumer cancelled while its re-attach waited at $step', async ({
    held,
  }) => {
    const queue = `attachstop${held[1]}.events`;
    proxy = await startAmqpProxy(rabbit.url);
    const broker = await connectThroughProxy();
    await broker.declare(serviceTopology(queue.replace('.events', ''), { bindings: [] }));
    const consumer = await broker.consume({
      queue,
      parse: (raw) => pingSchema.parse(raw),
      handler: async () => undefined,
    });
    proxy.holdNext(held);
    proxy.dropNamed('consuming');
    await eventually(() => proxy?.holding(), { what: 'the re-attach held' });
    // From here only the re-attach talks on the consuming connection (the topology is declared).
    const consumeOks = proxy.countReceived(METHODS.basicConsumeOk);
    const channelCloseOks = proxy.countReceived(METHODS.channelCloseOk);
    const cancelled = consumer.cancel();
    proxy.release();
    await cancelled;
    // The broker answered what the re-attach sent next: a consume, or the close of its channel.
    await eventually(() => consumeOks() + channelCloseOks() > 0, { what: 'the broker answered' });
    await eventually(async () => (await channel.checkQueue(queue)).consumerCount === 0, {
      what: 'no consumer left on the queue',
    });
  });
});
