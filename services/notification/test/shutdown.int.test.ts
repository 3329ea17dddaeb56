import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { EventEnvelope } from '@happening/contracts';
import { createDb } from '@happening/db';
import { queueState } from '@happening/messaging/testing';
import {
  eventually,
  type Infra,
  startInfra,
  startServiceMain,
  startTokenIssuer,
  type TestTokenIssuer,
} from '@happening/testkit';
import amqp, { type ChannelModel } from 'amqplib';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationDb } from '../src/database.ts';
import { DELIVERY_QUEUE } from '../src/modules/delivery/delivery.message.ts';
import { DB_SCHEMA } from '../src/schema.ts';
import { bookingFacts, confirmed, userRegistered } from './events.fixture.ts';

/**
 * An SMTP server that answers every command, and greets, only after `replyDelayMs`: each stage
 * stays within the provider timeout, and a whole send takes six of them.
 */
async function startSlowSmtp(replyDelayMs: number) {
  const sockets = new Set<Socket>();
  const mails: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const reply = (line: string) =>
      setTimeout(() => {
        if (!socket.destroyed) socket.write(`${line}\r\n`);
      }, replyDelayMs);
    let buffered = '';
    let inData = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (;;) {
        if (inData) {
          const end = buffered.indexOf('\r\n.\r\n');
          if (end < 0) return;
          mails.push(buffered.slice(0, end));
          buffered = buffered.slice(end + 5);
          inData = false;
          reply('250 2.0.0 queued');
          continue;
        }
        const eol = buffered.indexOf('\r\n');
        if (eol < 0) return;
        const command = buffered.slice(0, eol).slice(0, 4).toUpperCase();
        buffered = buffered.slice(eol + 2);
        if (command === 'QUIT') {
          socket.end('221 2.0.0 bye\r\n');
          return;
        }
        if (command === 'DATA') {
          inData = true;
          reply('354 go ahead');
        } else reply('250 ok');
      }
    });
    reply('220 slow.test ESMTP');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    /** Sends under way right now. */
    connected: () => sockets.size,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// main.ts as the container runs it: SIGTERM while the SMTP provider is slow.
describe('notification shutdown', () => {
  const drainMs = 3_000;
  // Six replies at 2.5 s each: within the 10 s provider timeout per stage, and longer than the
  // drain plus the 10 s every service has to close (13 s), which is what killed such sends.
  const smtpReplyDelayMs = 2_500;
  let infra: Infra;
  let issuer: TestTokenIssuer;
  let smtp: Awaited<ReturnType<typeof startSlowSmtp>>;
  let db: Kysely<NotificationDb>;
  let inspector: ChannelModel;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    infra = await startInfra();
    issuer = await startTokenIssuer();
    smtp = await startSlowSmtp(smtpReplyDelayMs);
    db = createDb<NotificationDb>({ connectionString: infra.postgresUrl, schema: DB_SCHEMA });
    inspector = await amqp.connect(infra.amqpUrl);
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await inspector?.close().catch(() => undefined);
    await db?.destroy();
    await smtp?.stop();
    await issuer?.stop();
    await infra?.stop();
  });

  async function publish(event: EventEnvelope): Promise<void> {
    const channel = await inspector.createConfirmChannel();
    try {
      channel.publish('happening.events', event.type, Buffer.from(JSON.stringify(event)), {
        messageId: event.id,
        contentType: 'application/json',
      });
      await channel.waitForConfirms();
    } finally {
      await channel.close();
    }
  }

  /**
   * Messages ready in the queue once the broker has let go of the exited service's consumers: a
   * delivery it left unacked is back in the queue by then.
   */
  async function readyMessages(queue: string): Promise<number> {
    const state = await eventually(
      async () => {
        const now = await queueState(infra.amqpUrl, queue);
        return now.consumerCount === 0 && now;
      },
      { what: `${queue} without consumers` },
    );
    return state.messageCount;
  }

  it('takes no new message once SIGTERM arrives, and finishes and acks a send slower than the drain plus 10 s', async () => {
    const main = await startServiceMain(fileURLToPath(new URL('..', import.meta.url)), {
      SHUTDOWN_DRAIN_MS: String(drainMs),
      RUN_MIGRATIONS: 'true',
      DATABASE_URL: infra.postgresUrl,
      AMQP_URL: infra.amqpUrl,
      OIDC_ISSUER: issuer.issuer,
      OIDC_JWKS_URI: issuer.jwksUri,
      OIDC_AUDIENCE: issuer.audience,
      SMTP_URL: smtp.url,
      PROVIDER_TIMEOUT_MS: '10000',
      NOTIFICATION_SEALING_KEY: randomBytes(32).toString('base64'),
      INVITE_LINK_KEY: randomBytes(32).toString('base64'),
    });
    child = main.child;

    const userId = randomUUID();
    const email = `${userId.slice(0, 8)}@example.test`;
    await publish(userRegistered(userId, email, 'Ada Lovelace'));
    await eventually(
      () =>
        db
          .selectFrom('recipients')
          .select('user_id')
          .where('user_id', '=', userId)
          .executeTakeFirst(),
      { what: 'recipient projected' },
    );
    const inFlight = confirmed(bookingFacts({ userId, eventName: 'In Flight' }));
    await publish(inFlight);
    await eventually(() => smtp.connected() === 1, { what: 'the send under way' });

    main.child.kill('SIGTERM');
    // The signal reaches the child asynchronously: wait until its drain has begun.
    await eventually(async () => (await main.readiness()) === 503, { what: 'the drain started' });
    const arriving = confirmed(bookingFacts({ userId, eventName: 'Arriving' }));
    await publish(arriving);

    expect(await main.exited).toBe(0);
    // The send in flight finished, was recorded and its delivery acked: nothing to send again.
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]).toContain('In Flight');
    const sent = await db
      .selectFrom('notifications')
      .select(['status', 'attempts'])
      .where('source_event_id', '=', inFlight.id)
      .execute();
    expect(sent).toEqual([{ status: 'sent', attempts: 1 }]);
    expect(await readyMessages(DELIVERY_QUEUE)).toBe(0);
    // The event published during the drain was left in the queue for the replicas staying.
    expect(await readyMessages('notification.events')).toBe(1);
    const handled = await db
      .selectFrom('inbox')
      .select('message_id')
      .where('message_id', '=', arriving.id)
      .execute();
    expect(handled).toEqual([]);
  }, 120_000);
});
