import { randomUUID } from 'node:crypto';
import { enqueueOutbox } from '@happening/db';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DELIVERY_DLQ,
  DELIVERY_QUEUE,
  deliveryRequest,
} from '../src/modules/delivery/delivery.message.ts';
import { sweepPending } from '../src/modules/delivery/pending.sweep.ts';
import { UNRECORDED_SEND } from '../src/modules/notifications/notification.repository.ts';
import { strayNotification } from './events.fixture.ts';
import { type Harness, startHarness } from './harness.ts';

const RETRY_DELAYS_MS = [200, 200];
const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

let h: Harness;

// The harness's sweep runs once an hour: here a delivery message reaches each row before it.
beforeAll(async () => {
  h = await startHarness({ retryDelaysMs: RETRY_DELAYS_MS });
});

afterAll(async () => {
  await h?.stop();
});

/**
 * A notification a worker claimed and died sending, `attempts` counted before: its lease ran out
 * a second ago, unrenewed. `delivered`: its delivery message (a retry, or the broker's redelivery
 * of the dead worker's message) is enqueued too, in the same transaction.
 */
async function abandoned(attempts: number, { delivered }: { delivered: boolean }) {
  const row = strayNotification({
    recipient: `abandoned-${randomUUID().slice(0, 8)}@example.test`,
    subject: 'Claimed by a worker that is gone',
    attempts,
    lease_token: randomUUID(),
  });
  await h.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('notifications')
      .values({ ...row, leased_until: sql<Date>`now() - interval '1 second'` })
      .execute();
    if (delivered) await enqueueOutbox(trx, [deliveryRequest(row.id, row.correlation_id)]);
  });
  return row;
}

const rowWhen = (id: string, status: string) =>
  eventually(
    async () => {
      const row = await h.db
        .selectFrom('notifications')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return row.status === status && row;
    },
    { what: `notification ${id} ${status}` },
  );

const sweep = () =>
  sweepPending({
    db: h.db,
    logger: pino({ level: 'silent' }),
    intervalMs: 60_000,
    staleAfterMs: 3_600_000,
    maxAttempts: MAX_ATTEMPTS,
  });

/** How the delivery consumer settled its messages so far, as `/metrics` shows it. */
async function deliveriesSettled(): Promise<{ processed: number; deadLettered: number }> {
  const count = async (outcome: string) =>
    (await h.metric('happening_consumer_messages_total', { queue: DELIVERY_QUEUE, outcome })) ?? 0;
  return { processed: await count('processed'), deadLettered: await count('dead_lettered') };
}

describe('a delivery message finding its notification’s lease run out', () => {
  it('counts the abandoned send as an attempt, then sends', async () => {
    const row = await abandoned(0, { delivered: true });

    await h.mailTo(row.recipient, row.subject);
    const sent = await rowWhen(row.id, 'sent');
    // The dead worker's send and the one that went out.
    expect(sent).toMatchObject({ attempts: 2, lease_token: null, leased_until: null });
    expect(h.sink.mailsTo(row.recipient)).toHaveLength(1);
  });

  it('gives the notification up, without sending, when the abandoned send was its last attempt', async () => {
    const before = await h.counted('email', 'failed');
    const settledBefore = await deliveriesSettled();
    const row = await abandoned(MAX_ATTEMPTS - 1, { delivered: true });

    const failed = await rowWhen(row.id, 'failed');
    expect(failed).toMatchObject({
      attempts: MAX_ATTEMPTS,
      last_error: UNRECORDED_SEND,
      lease_token: null,
      leased_until: null,
    });
    const failedEvent = await eventually(
      () =>
        h.published.find(
          (e) => e.type === 'notification.notification_failed' && e.data.notificationId === row.id,
        ),
      { what: 'notification_failed published' },
    );
    expect(failedEvent.data).toMatchObject({ attempts: MAX_ATTEMPTS, error: UNRECORDED_SEND });
    await eventually(async () => (await h.counted('email', 'failed')) === before + 1, {
      what: 'email failure counted',
    });
    // Nothing reached the SMTP server, and the message was acknowledged, not dead-lettered: once
    // the consumer has settled it, it counted it processed, and the DLQ holds nothing.
    expect(h.sink.recipientAttempts(row.recipient)).toBe(0);
    await eventually(async () => (await deliveriesSettled()).processed > settledBefore.processed, {
      what: 'the delivery message settled',
    });
    expect((await deliveriesSettled()).deadLettered).toBe(settledBefore.deadLettered);
    expect(await h.take(DELIVERY_DLQ)).toBeUndefined();
  });

  it('counts the abandoned send once, whether the sweep or the delivery message finds it first', async () => {
    // The sweep first: it counts the send and ends the lease; its own message and the broker's
    // redelivery then find it unleased.
    const swept = await abandoned(0, { delivered: false });
    expect(await sweep()).toBe(1);
    await h.db.transaction().execute(async (trx) => {
      await enqueueOutbox(trx, [deliveryRequest(swept.id, swept.correlation_id)]);
    });
    expect(await rowWhen(swept.id, 'sent')).toMatchObject({ attempts: 2 });

    // The delivery message first: the claim counts it and leases the row anew (sent by now).
    const claimed = await abandoned(0, { delivered: true });
    expect(await rowWhen(claimed.id, 'sent')).toMatchObject({ attempts: 2 });
    expect(await sweep()).toBe(0);

    for (const row of [swept, claimed]) {
      expect(await rowWhen(row.id, 'sent')).toMatchObject({ attempts: 2 });
      // The second message of the swept one found it sent: one mail each.
      expect(h.sink.mailsTo(row.recipient)).toHaveLength(1);
    }
  });
});
