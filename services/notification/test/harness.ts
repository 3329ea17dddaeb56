import { randomBytes, randomUUID } from 'node:crypto';
import { createSealedBox, type DomainEvent, type EventEnvelope } from '@happening/contracts';
import { createDb, migrateToLatest } from '@happening/db';
import { connectBroker, SUBSCRIBING_SERVICES } from '@happening/messaging';
import { captureEvents } from '@happening/messaging/testing';
import { eventually, startInfra, startTokenIssuer } from '@happening/testkit';
import amqp from 'amqplib';
import type { LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import type { NotificationDb } from '../src/database.ts';
import { channelAdapters } from '../src/modules/delivery/channels/channel.registry.ts';
import { INBOX_CONSUMER } from '../src/modules/inbound/domain-event.handler.ts';
import { startRuntime } from '../src/runtime.ts';
import { DB_SCHEMA, MIGRATIONS_FOLDER } from '../src/schema.ts';
import { userRegistered } from './events.fixture.ts';
import { startMailSink } from './mail-sink.ts';

export interface HarnessOptions {
  retryDelaysMs: number[];
  smsApiUrl?: string;
  pushApiUrl?: string;
  pendingStaleAfterMs?: number;
  pendingSweepIntervalMs?: number;
  /** Another SMTP server than the mail sink (e.g. one that stalls). */
  smtpUrl?: string;
  providerTimeoutMs?: number;
  waitingNoticeExpiryMs?: number;
}

export interface TestUser {
  sub: string;
  email: string;
  token: string;
}

/**
 * The notification service wired as main.ts wires it, on throwaway Postgres and RabbitMQ, a real
 * SMTP sink, and a test queue catching the `notification.*` events it publishes.
 */
export async function startHarness(options: HarnessOptions) {
  const infra = await startInfra();
  const issuer = await startTokenIssuer();
  const sink = await startMailSink();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const db = createDb<NotificationDb>({ connectionString: infra.postgresUrl, schema: DB_SCHEMA });
  await migrateToLatest({ db, schema: DB_SCHEMA, migrationsFolder: MIGRATIONS_FOLDER });

  const captured = await captureEvents(infra.amqpUrl, [
    'notification.notification_sent',
    'notification.notification_failed',
  ]);
  const published = captured.events;
  const inspector = await amqp.connect(infra.amqpUrl);
  const channel = await inspector.createChannel();

  const broker = await connectBroker({ url: infra.amqpUrl, logger });
  const sealedBox = createSealedBox(randomBytes(32));
  /** Seals accept links as identity-org does, under the key the two services share. */
  const inviteLinks = createSealedBox(randomBytes(32));
  const adapters = channelAdapters({
    SMTP_URL: options.smtpUrl ?? sink.url,
    MAIL_FROM: 'Happening <no-reply@happening.test>',
    SMS_API_URL: options.smsApiUrl,
    SMS_API_KEY: options.smsApiUrl ? 'sms-key' : undefined,
    PUSH_API_URL: options.pushApiUrl,
    PUSH_API_KEY: options.pushApiUrl ? 'push-key' : undefined,
    PROVIDER_TIMEOUT_MS: options.providerTimeoutMs ?? 2_000,
  });
  const runtime = await startRuntime({
    db,
    broker,
    logger,
    adapters,
    sealedBox,
    inviteLinks,
    deliveryRetryDelaysMs: options.retryDelaysMs,
    pendingSweepIntervalMs: options.pendingSweepIntervalMs ?? 3_600_000,
    pendingStaleAfterMs: options.pendingStaleAfterMs ?? 3_600_000,
    waitingNoticeExpiryMs: options.waitingNoticeExpiryMs ?? 7 * 24 * 3_600_000,
    finishedNotificationRetentionMs: 90 * 24 * 3_600_000,
    eventConsumers: SUBSCRIBING_SERVICES,
  });
  const app = buildApp({
    db,
    logger,
    config: {
      OIDC_ISSUER: issuer.issuer,
      OIDC_AUDIENCE: issuer.audience,
      OIDC_JWKS_URI: issuer.jwksUri,
    },
  });
  await app.ready();

  /** Publishes an envelope onto `happening.events` as its service would, `times` times. */
  async function publish(event: EventEnvelope | DomainEvent, times = 1): Promise<void> {
    for (let i = 0; i < times; i++) {
      await broker.publish({ routingKey: event.type, messageId: event.id, payload: event });
    }
  }

  /**
   * Publishes `event` and waits until its projections are recorded (their inbox row commits
   * first); a test that needs the event's notices waits for those as well (`noticed`).
   */
  async function deliver(event: EventEnvelope): Promise<void> {
    await publish(event);
    await eventually(
      () =>
        db
          .selectFrom('inbox')
          .select('message_id')
          .where('message_id', '=', event.id)
          .executeTakeFirst(),
      { what: `${event.type} ${event.id} handled` },
    );
  }

  /** Waits until the event's notices are written, kept waiting, or found not to be needed. */
  function noticed(messageId: string) {
    return eventually(
      () =>
        db
          .selectFrom('inbox')
          .select('message_id')
          .where('consumer', '=', INBOX_CONSUMER)
          .where('message_id', '=', messageId)
          .executeTakeFirst(),
      { what: `notices of ${messageId} written` },
    );
  }

  /** Waits for a mail to `address` whose subject contains `subjectPart`. */
  function mailTo(address: string, subjectPart: string) {
    return eventually(() => sink.mailsTo(address).find((m) => m.subject.includes(subjectPart)), {
      what: `mail "${subjectPart}" to ${address}`,
    });
  }

  async function user(name = 'Ada Lovelace'): Promise<TestUser> {
    const sub = randomUUID();
    const email = `${sub.slice(0, 8)}@example.test`;
    return { sub, email, token: await issuer.token({ sub, email, name }) };
  }

  /** A user whose contact details the service has received (projected from user_registered). */
  async function registered(
    name = 'Ada Lovelace',
    phone?: string,
    /** Another address than the token's, as identity-org may announce it. */
    email?: string,
  ): Promise<TestUser> {
    const person = { ...(await user(name)), ...(email !== undefined && { email }) };
    await publish(userRegistered(person.sub, person.email, name, phone));
    await eventually(
      () =>
        db
          .selectFrom('recipients')
          .select('user_id')
          .where('user_id', '=', person.sub)
          .executeTakeFirst(),
      { what: 'recipient projected' },
    );
    return person;
  }

  function call(
    who: TestUser | undefined,
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    body?: unknown,
  ): Promise<LightMyRequestResponse> {
    return app.inject({
      method,
      url,
      headers: who ? { authorization: `Bearer ${who.token}` } : {},
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
  }

  /** Every stored notification of a source event. */
  function notificationsOf(sourceEventId: string) {
    return db
      .selectFrom('notifications')
      .selectAll()
      .where('source_event_id', '=', sourceEventId)
      .orderBy('recipient')
      .execute();
  }

  /**
   * A metric's value as `/metrics` shows it: the series of `name` carrying `labels`, or undefined
   * when there is none.
   */
  async function metric(
    name: string,
    labels: Record<string, string> = {},
  ): Promise<number | undefined> {
    const res = await app.inject({ url: '/metrics' });
    const line = res.body
      .split('\n')
      .find(
        (l) =>
          (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) &&
          Object.entries(labels).every(([label, value]) => l.includes(`${label}="${value}"`)),
      );
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  /** `happening_notifications_total` for one channel and outcome, as `/metrics` shows it. */
  async function counted(channel: string, outcome: 'sent' | 'failed'): Promise<number> {
    return (await metric('happening_notifications_total', { channel, outcome })) ?? 0;
  }

  /** Takes one message off a queue (e.g. the DLQ), or undefined when it is empty. */
  async function take(queueName: string) {
    const message = await channel.get(queueName, { noAck: true });
    return message === false ? undefined : message;
  }

  return {
    infra,
    db,
    app,
    sink,
    published,
    publish,
    deliver,
    noticed,
    mailTo,
    user,
    registered,
    call,
    notificationsOf,
    metric,
    counted,
    take,
    runtime,
    /** The channel adapters the runtime sends with, for tests that deliver directly. */
    adapters,
    sealedBox,
    inviteLinks,
    async stop() {
      await app.close();
      await runtime.stop();
      await broker.close();
      await captured.close();
      await inspector.close().catch(() => undefined);
      await db.destroy();
      await sink.stop();
      await issuer.stop();
      await infra.stop();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
