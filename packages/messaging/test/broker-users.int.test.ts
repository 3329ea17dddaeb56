import { buildEvent, type DomainEvent } from '@happening/contracts';
import {
  eventually,
  managementRequest,
  type RabbitMqHandle,
  startRabbitMq,
} from '@happening/testkit';
import amqp from 'amqplib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Broker,
  connectBroker,
  EVENTS_EXCHANGE,
  mergeTopologies,
  platformTopology,
  queueTopology,
  type Topology,
} from '../src/index.ts';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

// The permissions docs/operations.md ("Broker users per service") gives each service's broker
// user. Every service declares the whole platform topology at start (platformTopology), so each
// may configure every consumer's queues; a queue declared with a dead-letter exchange also needs
// read on it and write on its exchange, the default one (amq.default), which the retry and
// dead-letter moves publish to as well.
const PLATFORM_PERMISSIONS = {
  configure:
    '^(happening\\.(events|unrouted)|(catalog|booking|notification)\\.(events|retry\\.[0-9]+|dlq))$',
  write: '^(amq\\.default|happening\\.(events|unrouted)|(catalog|booking|notification)\\.events)$',
  read: '^(happening\\.(events|unrouted)|(catalog|booking|notification)\\.(events|retry\\.[0-9]+))$',
};
// notification alone declares and consumes its delivery work queue.
const NOTIFICATION_PERMISSIONS = {
  configure:
    '^(happening\\.(events|unrouted)|(catalog|booking|notification)\\.(events|retry\\.[0-9]+|dlq)|notification\\.delivery(\\.retry\\.[0-9]+|\\.dlq)?)$',
  write:
    '^(amq\\.default|happening\\.(events|unrouted)|(catalog|booking|notification)\\.events|notification\\.delivery)$',
  read: '^(happening\\.(events|unrouted)|(catalog|booking|notification)\\.(events|retry\\.[0-9]+)|notification\\.delivery(\\.retry\\.[0-9]+)?)$',
};
// On happening.events each publishes only under its own prefix; binding keys are checked against
// the read pattern, and every service binds every consumer's keys.
const BROKER_USERS = {
  'identity-org': { ...PLATFORM_PERMISSIONS, topicWrite: '^identity\\.', topicRead: '.*' },
  catalog: { ...PLATFORM_PERMISSIONS, topicWrite: '^catalog\\.', topicRead: '.*' },
  booking: { ...PLATFORM_PERMISSIONS, topicWrite: '^booking\\.', topicRead: '.*' },
  notification: { ...NOTIFICATION_PERMISSIONS, topicWrite: '^notification\\.', topicRead: '.*' },
};
type Service = keyof typeof BROKER_USERS;

/** What each service declares at start (notification's delivery queue as its runtime does). */
const STARTUP_TOPOLOGY: Record<Service, Topology> = {
  'identity-org': platformTopology(),
  catalog: platformTopology(),
  booking: platformTopology(),
  notification: mergeTopologies(
    platformTopology(),
    queueTopology('notification.delivery', { bindings: ['notification.deliver'] }),
  ),
};

let rabbit: RabbitMqHandle;
const brokers = new Map<Service, Broker>();

function urlOf(service: Service): string {
  const url = new URL(rabbit.url);
  url.username = service;
  url.password = `${service}-password`;
  return url.toString();
}

async function createUser(service: Service): Promise<void> {
  const { configure, write, read, topicWrite, topicRead } = BROKER_USERS[service];
  const admin = rabbit.managementUrl;
  await managementRequest(admin, 'PUT', `/api/users/${service}`, {
    password: `${service}-password`,
    tags: '',
  });
  await managementRequest(admin, 'PUT', `/api/permissions/%2F/${service}`, {
    configure,
    write,
    read,
  });
  await managementRequest(admin, 'PUT', `/api/topic-permissions/%2F/${service}`, {
    exchange: EVENTS_EXCHANGE,
    write: topicWrite,
    read: topicRead,
  });
}

/** Publishes on a confirm channel of its own: `confirmed`, or how the broker closed the channel. */
async function publishAs(service: Service, routingKey: string): Promise<string> {
  const connection = await amqp.connect(urlOf(service));
  try {
    const channel = await connection.createConfirmChannel();
    const closed = new Promise<Error>((resolve) => channel.on('error', resolve));
    channel.publish(EVENTS_EXCHANGE, routingKey, Buffer.from('{}'));
    const confirmed = await channel.waitForConfirms().then(
      () => true,
      () => false,
    );
    return confirmed ? 'confirmed' : (await closed).message;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

beforeAll(async () => {
  rabbit = await startRabbitMq();
  for (const service of Object.keys(BROKER_USERS) as Service[]) await createUser(service);
});

afterAll(async () => {
  await Promise.all([...brokers.values()].map((broker) => broker.close()));
  await rabbit?.stop();
});

describe('a broker user per service, with the documented permissions', () => {
  it('lets each service declare the topology it declares at start', async () => {
    for (const service of Object.keys(BROKER_USERS) as Service[]) {
      const broker = await connectBroker({ url: urlOf(service), logger });
      brokers.set(service, broker);
      expect(broker.isConnected(), service).toBe(true);
      await broker.declare(STARTUP_TOPOLOGY[service]);
    }
  });

  it("routes a service's own event to its consumer, which may retry it", async () => {
    const attempts: number[] = [];
    const received: DomainEvent[] = [];
    const consumer = await brokers.get('catalog')!.consume({
      queue: 'catalog.events',
      handler: async (event, context) => {
        attempts.push(context.attempt);
        // The retry goes through the default exchange: the consumer's write on amq.default.
        if (context.attempt === 1) throw new Error('database away');
        received.push(event);
      },
    });
    const joined = buildEvent(
      'identity.member_joined',
      { organizationId: crypto.randomUUID(), userId: crypto.randomUUID(), role: 'organizer' },
      {
        source: 'identity-org',
        aggregate: { type: 'organization', id: crypto.randomUUID(), version: 1 },
        correlationId: 'c-1',
      },
    );
    await brokers
      .get('identity-org')!
      .publish({ routingKey: joined.type, messageId: joined.id, payload: joined });
    await eventually(() => received.length === 1, { what: "catalog's retried delivery" });
    expect(received[0]?.id).toBe(joined.id);
    expect(attempts).toEqual([1, 2]);
    await consumer.cancel();
  });

  it("refuses a publish under another service's prefix: 403 ACCESS_REFUSED", async () => {
    // The review's case: a catalog pod granting itself orgAdmin through identity.member_joined.
    expect(await publishAs('catalog', 'identity.member_joined')).toMatch(
      /403 \(ACCESS-REFUSED\).*access to topic 'identity\.member_joined' in exchange 'happening\.events' .* refused for user 'catalog'/,
    );
    expect(await publishAs('identity-org', 'catalog.event_published')).toMatch(
      /403 \(ACCESS-REFUSED\)/,
    );
    expect(await publishAs('booking', 'notification.deliver')).toMatch(/403 \(ACCESS-REFUSED\)/);
  });
});
