import { randomBytes, randomUUID } from 'node:crypto';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { createSealedBox } from '@happening/contracts';
import { deferred, eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationChannel } from '../src/domain.ts';
import type {
  ChannelAdapter,
  OutgoingMessage,
} from '../src/modules/delivery/channels/channel.adapter.ts';
import { deliverNotification } from '../src/modules/delivery/delivery.worker.ts';
import { bookingFacts, confirmed, strayNotification } from './events.fixture.ts';
import { type Harness, startHarness } from './harness.ts';

/** An SMTP server that accepts connections and never greets: every send stalls until its timeout. */
async function startStallingSmtp() {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    /** Sends stalled right now. */
    stalled: () => sockets.size,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let h: Harness;
let smtp: Awaited<ReturnType<typeof startStallingSmtp>>;

beforeAll(async () => {
  smtp = await startStallingSmtp();
  // Longer than the test: a stalled send ends only when the server goes away.
  h = await startHarness({ retryDelaysMs: [60_000], smtpUrl: smtp.url, providerTimeoutMs: 60_000 });
});

afterAll(async () => {
  await smtp?.stop();
  await h?.stop();
});

describe('a provider that stalls', () => {
  it('holds no database connection while it sends: reads, readiness and new events go on', async () => {
    const people = await Promise.all(Array.from({ length: 12 }, (_, i) => h.registered(`S${i}`)));
    for (const person of people) await h.publish(confirmed(bookingFacts({ userId: person.sub })));
    // The delivery consumer takes ten at a time, as many as the pool has connections.
    await eventually(() => smtp.stalled() >= 10, { what: 'ten stalled sends' });

    // No transaction that began before the sends stalled is still open: none spans a send.
    const { rows: stalledAt } = await sql<{ at: Date }>`SELECT clock_timestamp() AS at`.execute(
      h.db,
    );
    // A short transaction (a claim, the relay's round) may be caught mid-way: it ends; one held
    // across a stalled send never would.
    await eventually(
      async () => {
        const { rows: spanning } = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND backend_type = 'client backend'
            AND xact_start < ${stalledAt[0]!.at} AND pid <> pg_backend_pid()`.execute(h.db);
        return spanning[0]?.n === 0;
      },
      { what: 'no transaction spanning a stalled send' },
    );

    // So what needs a connection is served while the sends stay stalled (they never end during
    // the test: with a connection held per send, these would wait for ever).
    const [first] = people;
    const list = await h.call(first, 'GET', '/v1/me/notifications');
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toMatchObject([{ status: 'pending', type: 'booking_confirmed' }]);
    const ready = await h.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);

    const another = confirmed(bookingFacts({ userId: first!.sub, eventName: 'Still Heard' }));
    await h.deliver(another);
    const rows = await eventually(async () => {
      const found = await h.notificationsOf(another.id);
      return found.length > 0 && found;
    });
    expect(rows).toMatchObject([{ subject: 'Booking confirmed: Still Heard', status: 'pending' }]);
  });
});

describe('the delivery lease', () => {
  const sealedBox = createSealedBox(randomBytes(32));
  const logger = pino({ level: 'silent' });

  /** A notification stored as pending, never enqueued: only the test delivers it. */
  async function pendingNotification(): Promise<string> {
    const id = randomUUID();
    await h.db
      .insertInto('notifications')
      .values(
        strayNotification({
          id,
          recipient: `lease-${id.slice(0, 8)}@example.test`,
          subject: 'Leased',
          body: 'Sent once.',
        }),
      )
      .execute();
    return id;
  }

  /** An email adapter whose sends wait for `release`, recording what they were asked to send. */
  function heldAdapter() {
    const release = deferred();
    const sends: OutgoingMessage[] = [];
    const adapter: ChannelAdapter = {
      async send(message) {
        sends.push(message);
        await release.promise;
        return { providerMessageId: `held-${sends.length}` };
      },
    };
    return {
      sends,
      release: release.resolve,
      adapters: new Map<NotificationChannel, ChannelAdapter>([['email', adapter]]),
    };
  }

  it('lets one worker send a notification at a time, however long its send takes', async () => {
    const id = await pendingNotification();
    const held = heldAdapter();
    // Renewed every leaseMs / 3: a stall of a few hundred ms on a loaded machine must not lose it.
    const deps = {
      db: h.db,
      adapters: held.adapters,
      sealedBox,
      logger,
      leaseMs: 1_500,
      maxAttempts: 2,
    };
    const first = deliverNotification(deps, id, { isLast: false });
    try {
      await eventually(() => held.sends.length === 1, { what: 'the first send started' });
      const { leased_until: claimed } = await leaseOf(id);
      // It outlives its lease several times over: the sending worker keeps renewing it.
      await eventually(
        async () => {
          const { leased_until: now } = await leaseOf(id);
          return (now?.getTime() ?? 0) > (claimed?.getTime() ?? Infinity) + 3_000;
        },
        { what: 'the lease renewed' },
      );
      expect(await deliverNotification(deps, id, { isLast: false })).toBe('skipped');
      expect(held.sends).toHaveLength(1);
    } finally {
      held.release();
    }
    expect(await first).toBe('sent');
    const row = await h.db
      .selectFrom('notifications')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'sent',
      attempts: 1,
      provider_message_id: 'held-1',
      leased_until: null,
      lease_token: null,
    });
    expect(await deliverNotification(deps, id, { isLast: false })).toBe('skipped');
    expect(held.sends).toHaveLength(1);
  });

  async function leaseOf(id: string) {
    return h.db
      .selectFrom('notifications')
      .select(['leased_until', 'lease_token'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }
});
