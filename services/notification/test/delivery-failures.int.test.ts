import { randomUUID } from 'node:crypto';
import { sealInviteLink } from '@happening/contracts';
import { withFailingWrites } from '@happening/db/testing';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_DLQ } from '../src/modules/delivery/delivery.message.ts';
import { deliverNotification } from '../src/modules/delivery/delivery.worker.ts';
import { roleOf } from '../src/modules/memberships/membership.repository.ts';
import { UNRECORDED_SEND } from '../src/modules/notifications/notification.repository.ts';
import {
  bookingFacts,
  confirmed,
  eventCancelled,
  memberInvited,
  memberJoined,
  memberRemoved,
  memberRoleChanged,
  promoted,
  strayNotification,
  userRegistered,
  waitlisted,
} from './events.fixture.ts';
import { type Harness, startHarness, type TestUser } from './harness.ts';
import { startHttpProvider } from './http-provider.ts';

// Six attempts in about ten seconds: long enough to restart the SMTP sink in between.
const RETRY_DELAYS_MS = [300, 600, 1_200, 2_400, 4_800];
const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

let h: Harness;
let sms: Awaited<ReturnType<typeof startHttpProvider>>;

beforeAll(async () => {
  sms = await startHttpProvider();
  h = await startHarness({
    retryDelaysMs: RETRY_DELAYS_MS,
    smsApiUrl: sms.url,
    pendingSweepIntervalMs: 300,
    pendingStaleAfterMs: 30_000,
  });
});

afterAll(async () => {
  await h?.stop();
  await sms?.stop();
});

/** A user who joined the organization with the role, as the service's projection knows it. */
async function memberOf(orgId: string, role: 'orgAdmin' | 'organizer' | 'user'): Promise<TestUser> {
  const user = await h.user();
  await h.publish(memberJoined(orgId, user.sub, role));
  await eventually(
    () =>
      h.db
        .selectFrom('memberships')
        .select('user_id')
        .where('organization_id', '=', orgId)
        .where('user_id', '=', user.sub)
        .executeTakeFirst(),
    { what: `${role} membership projected` },
  );
  return user;
}

const rowOf = async (sourceEventId: string) => (await h.notificationsOf(sourceEventId))[0];

/** The source event's notification once it has the status. */
function rowWhen(sourceEventId: string, status: string, timeoutMs = 20_000) {
  return eventually(
    async () => {
      const row = await rowOf(sourceEventId);
      return row?.status === status && row;
    },
    { timeoutMs, what: `notification of ${sourceEventId} ${status}` },
  );
}

/** A registered person who gets booking confirmations by SMS only. */
async function smsPerson(phone: string): Promise<TestUser> {
  const person = await h.registered('Sam', phone);
  const prefs = await h.call(person, 'PUT', '/v1/me/notification-preferences', {
    preferences: [
      { type: 'booking_confirmed', channel: 'email', enabled: false },
      { type: 'booking_confirmed', channel: 'sms', enabled: true },
    ],
  });
  expect(prefs.statusCode).toBe(200);
  return person;
}

/** The dead-lettered delivery of a notification (other dead letters taken on the way are dropped). */
function deadLetterOf(notificationId: string) {
  return eventually(
    async () => {
      for (
        let message = await h.take(DELIVERY_DLQ);
        message;
        message = await h.take(DELIVERY_DLQ)
      ) {
        if (JSON.parse(message.content.toString()).notificationId === notificationId)
          return message;
      }
      return undefined;
    },
    { what: `dead letter of ${notificationId}` },
  );
}

/** The `notification_failed` event of a notification, once published. */
function failedEventOf(notificationId: string) {
  return eventually(
    () =>
      h.published.find(
        (e) =>
          e.type === 'notification.notification_failed' && e.data.notificationId === notificationId,
      ),
    { what: `notification_failed of ${notificationId}` },
  );
}

const providerCalls = (notificationId: string) =>
  sms.requests.filter((r) => r.idempotencyKey === notificationId);

describe('memberships', () => {
  it('follow the organization’s version: a late role change does not bring a removed admin back', async () => {
    const orgId = randomUUID();
    const admin = await memberOf(orgId, 'orgAdmin');
    const removed = memberRemoved(orgId, admin.sub, 1_001);
    const late = memberRoleChanged(orgId, admin.sub, 'orgAdmin', 1_000);
    for (const event of [removed, late]) await h.deliver(event);
    expect(await roleOf(h.db, orgId, admin.sub)).toBeUndefined();
  });
});

describe('SMTP down for a while', () => {
  it('does not send a waiting notice on a channel its recipient turned off meanwhile', async () => {
    const bea = await h.registered('Bea');
    await h.sink.stop();
    const event = confirmed(bookingFacts({ userId: bea.sub, eventName: 'Changed Mind' }));
    await h.publish(event);
    await eventually(async () => ((await rowOf(event.id))?.attempts ?? 0) >= 1);
    const put = await h.call(bea, 'PUT', '/v1/me/notification-preferences', {
      preferences: [{ type: 'booking_confirmed', channel: 'email', enabled: false }],
    });
    expect(put.statusCode).toBe(200);
    await h.sink.start();
    const skipped = await eventually(async () => {
      const row = await rowOf(event.id);
      return row?.status === 'skipped' && row;
    });
    expect(skipped.last_error).toBe('the recipient turned this channel off');
    expect(h.sink.mailsTo(bea.email)).toEqual([]);
  });

  it('counts the failed attempts, then sends once the server is back', async () => {
    const ada = await h.registered('Ada');
    const before = {
      sent: await h.counted('email', 'sent'),
      failed: await h.counted('email', 'failed'),
    };
    await h.sink.stop();
    const event = confirmed(bookingFacts({ userId: ada.sub, eventName: 'Outage Party' }));
    await h.publish(event);

    const failing = await eventually(async () => {
      const row = await rowOf(event.id);
      return row && row.attempts >= 2 && row;
    });
    expect(failing.status).toBe('pending');
    expect(failing.last_error).toMatch(/ECONNREFUSED|connect/i);

    await h.sink.start();
    const sent = await eventually(async () => {
      const row = await rowOf(event.id);
      return row?.status === 'sent' && row;
    });
    expect(sent.attempts).toBeGreaterThanOrEqual(3);
    expect(sent.last_error).toBeNull();
    expect(h.sink.mailsTo(ada.email).map((m) => m.subject)).toEqual([
      'Booking confirmed: Outage Party',
    ]);
    // Attempts that will be retried are not outcomes: one sent, nothing failed.
    await eventually(async () => (await h.counted('email', 'sent')) === before.sent + 1, {
      what: 'email sent counted',
    });
    expect(await h.counted('email', 'failed')).toBe(before.failed);
  });
});

describe("an organization's notifications", () => {
  it('are listed to its orgAdmins only, newest first, a page at a time, filtered by status', async () => {
    const person = await h.registered('Grace');
    const orgId = randomUUID();
    const [first, second] = [
      confirmed(bookingFacts({ userId: person.sub, orgId })),
      confirmed(bookingFacts({ userId: person.sub, orgId })),
    ];
    const elsewhere = confirmed(bookingFacts({ userId: person.sub }));
    for (const event of [first, elsewhere, second]) {
      await h.publish(event);
      await rowWhen(event.id, 'sent');
    }
    const [admin, organizer, member] = await Promise.all([
      memberOf(orgId, 'orgAdmin'),
      memberOf(orgId, 'organizer'),
      memberOf(orgId, 'user'),
    ]);
    const url = `/v1/orgs/${orgId}/notifications`;

    const page = await h.call(admin, 'GET', `${url}?limit=1`);
    expect(page.statusCode).toBe(200);
    const newest = (await rowOf(second.id))!;
    expect(page.json().items).toEqual([
      expect.objectContaining({ id: newest.id, orgId, status: 'sent', lastError: null }),
    ]);
    // The people notified may be anyone who booked: their address and message are not listed.
    expect(Object.keys(page.json().items[0])).not.toContain('recipient');
    expect(Object.keys(page.json().items[0])).not.toContain('body');
    const rest = await h.call(admin, 'GET', `${url}?limit=1&cursor=${page.json().nextCursor}`);
    expect(rest.json()).toEqual({
      items: [expect.objectContaining({ id: (await rowOf(first.id))!.id })],
      nextCursor: null,
    });
    expect((await h.call(admin, 'GET', `${url}?status=failed`)).json().items).toEqual([]);

    // Organizers run the organization's events, not its mail: the list is the orgAdmins' alone.
    expect((await h.call(organizer, 'GET', url)).statusCode).toBe(403);
    expect((await h.call(member, 'GET', url)).statusCode).toBe(403);
    // The person notified is no member: the organization is not theirs to read.
    expect((await h.call(person, 'GET', url)).json()).toMatchObject({
      status: 404,
      code: 'ORGANIZATION_NOT_FOUND',
    });
    expect((await h.call(admin, 'GET', `/v1/orgs/${randomUUID()}/notifications`)).statusCode).toBe(
      404,
    );
  });
});

describe('a provider that always fails', () => {
  it('marks the notification failed after the limit, dead-letters the work, and an orgAdmin can retry', async () => {
    const ada = await h.registered('Ada', '+4915112345678');
    const prefs = await h.call(ada, 'PUT', '/v1/me/notification-preferences', {
      preferences: [
        { type: 'booking_confirmed', channel: 'email', enabled: false },
        { type: 'booking_confirmed', channel: 'sms', enabled: true },
      ],
    });
    expect(prefs.statusCode).toBe(200);
    // The provider quotes the number, as some do.
    sms.answer(500, '{"error":"unavailable","to":"+4915112345678"}');
    const failedBefore = await h.counted('sms', 'failed');
    const sentBefore = await h.counted('sms', 'sent');

    const facts = bookingFacts({ userId: ada.sub });
    const event = confirmed(facts, [7]);
    await h.publish(event);

    const failed = await eventually(
      async () => {
        const row = await rowOf(event.id);
        return row?.status === 'failed' && row;
      },
      { timeoutMs: 30_000 },
    );
    expect(failed).toMatchObject({ channel: 'sms', recipient: '+4915112345678' });
    expect(failed.attempts).toBe(MAX_ATTEMPTS);
    expect(failed.last_error).toContain('provider answered 500');
    expect(failed.last_error).toContain('+4915112345678');
    await eventually(async () => (await h.counted('sms', 'failed')) === failedBefore + 1, {
      what: 'sms failure counted',
    });
    expect(await h.counted('sms', 'sent')).toBe(sentBefore);

    const calls = sms.requests.filter((r) => r.idempotencyKey === failed.id);
    expect(calls).toHaveLength(MAX_ATTEMPTS);
    expect(calls[0]).toMatchObject({
      authorization: 'Bearer sms-key',
      body: { to: '+4915112345678', text: expect.stringContaining('Seat numbers: 7') },
    });

    const dead = await eventually(() => h.take(DELIVERY_DLQ));
    expect(JSON.parse(dead.content.toString())).toMatchObject({ notificationId: failed.id });
    const deadError = String(dead.properties.headers?.['x-happening-error']);
    expect(deadError).toContain('provider answered 500');
    expect(deadError).not.toContain('4915112345678');

    const failedEvent = await eventually(() =>
      h.published.find(
        (e) => e.type === 'notification.notification_failed' && e.data.notificationId === failed.id,
      ),
    );
    expect(failedEvent.data).toMatchObject({ attempts: MAX_ATTEMPTS, channel: 'sms' });
    // Any system bound to the event reads it: the number is left out, as in the admins' list.
    const { error } = failedEvent.data as { error: string };
    expect(error).toContain('provider answered 500');
    expect(error).toContain('<recipient>');
    expect(error).not.toContain('4915112345678');

    // Retry: only an orgAdmin of the notification's organization.
    const [admin, organizer, member] = await Promise.all([
      memberOf(facts.orgId, 'orgAdmin'),
      memberOf(facts.orgId, 'organizer'),
      memberOf(facts.orgId, 'user'),
    ]);
    const retryUrl = `/v1/notifications/${failed.id}/retry`;
    expect((await h.call(await h.user(), 'POST', retryUrl)).statusCode).toBe(404);
    expect((await h.call(ada, 'POST', retryUrl)).statusCode).toBe(404);
    expect((await h.call(organizer, 'POST', retryUrl)).statusCode).toBe(403);
    expect((await h.call(member, 'POST', retryUrl)).statusCode).toBe(403);
    expect(
      (await h.call(admin, 'POST', `/v1/notifications/${randomUUID()}/retry`)).statusCode,
    ).toBe(404);

    // The orgAdmin finds it among the organization's failed notifications, with why it failed.
    const failedList = `/v1/orgs/${facts.orgId}/notifications?status=failed`;
    const listed = await h.call(admin, 'GET', failedList);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items).toEqual([
      expect.objectContaining({
        id: failed.id,
        status: 'failed',
        lastError: expect.stringContaining('provider answered 500'),
      }),
    ]);

    sms.answer(200);
    const requestsBefore = await deliveryRequestsOf(failed.id);
    // Its delivery is held before it records the send, so the retry is still under way when it
    // is asked again (a client that lost the first answer): the same 202, nothing sent twice.
    const retried = await whileSentIsHeld(failed.id, async () => {
      const first = await h.call(admin, 'POST', retryUrl);
      const repeated = await h.call(admin, 'POST', retryUrl);
      expect(repeated.statusCode).toBe(202);
      expect(repeated.json()).toEqual(first.json());
      expect(await deliveryRequestsOf(failed.id)).toBe(requestsBefore + 1);
      return first;
    });
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toMatchObject({ id: failed.id, status: 'pending' });
    expect(retried.json().lastError).toContain('provider answered 500');
    expect(Object.keys(retried.json())).not.toContain('recipient');

    const sent = await eventually(async () => {
      const row = await rowOf(event.id);
      return row?.status === 'sent' && row;
    });
    expect(sent.provider_message_id).toMatch(/^prov-/);
    expect((await h.call(admin, 'GET', failedList)).json().items).toEqual([]);
    expect(sent.attempts).toBe(MAX_ATTEMPTS + 1);
    await eventually(async () => (await h.counted('sms', 'sent')) === sentBefore + 1, {
      what: 'sms sent counted',
    });
    expect(await h.counted('sms', 'failed')).toBe(failedBefore + 1);

    const again = await h.call(admin, 'POST', retryUrl);
    expect(again.statusCode).toBe(422);
    expect(again.json().code).toBe('NOTIFICATION_NOT_FAILED');
    expect(await deliveryRequestsOf(failed.id)).toBe(requestsBefore + 1);
  });
});

/** How many delivery requests the outbox holds for the notification. */
async function deliveryRequestsOf(notificationId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM outbox
    WHERE routing_key = 'notification.deliver' AND payload->>'notificationId' = ${notificationId}`.execute(
    h.db,
  );
  return rows[0]?.n ?? 0;
}

/** Runs `work` while recording the notification as sent waits at a gate the test holds. */
function whileSentIsHeld<T>(notificationId: string, work: () => Promise<T>): Promise<T> {
  const gate = 7_401;
  return withFailingWrites(
    h.db,
    {
      table: 'notifications',
      on: 'UPDATE',
      when: sql`NEW.id = ${sql.lit(notificationId)}::uuid AND NEW.status = 'sent'`,
      gate,
      passes: true,
    },
    () =>
      h.db.connection().execute(async (session) => {
        await sql`SELECT pg_advisory_lock(${gate}::bigint)`.execute(session);
        try {
          return await work();
        } finally {
          await sql`SELECT pg_advisory_unlock(${gate}::bigint)`.execute(session);
        }
      }),
  );
}

describe('a retry whose notification fails for good between its two looks', () => {
  it('reopens it after all: 202, sent once more', async () => {
    const orgId = randomUUID();
    const admin = await memberOf(orgId, 'orgAdmin');
    const id = randomUUID();
    // Pending as the retry first finds it (its last attempt under way), not yet enqueued again.
    await h.db
      .insertInto('notifications')
      .values(
        strayNotification({ id, org_id: orgId, recipient: `late-${id.slice(0, 8)}@example.test` }),
      )
      .execute();
    // The worker records the last attempt failed right after the retry's first look: a
    // statement trigger on the retry's own UPDATE (which matched nothing) does it, once.
    await sql`CREATE TABLE fail_once (id uuid PRIMARY KEY)`.execute(h.db);
    await sql`INSERT INTO fail_once VALUES (${id}::uuid)`.execute(h.db);
    await sql`
      CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Not again for its own UPDATE.
        IF pg_trigger_depth() > 1 THEN RETURN NULL; END IF;
        WITH taken AS (DELETE FROM fail_once RETURNING id)
        UPDATE notifications SET status = 'failed'
        WHERE id IN (SELECT id FROM taken) AND status = 'pending';
        RETURN NULL;
      END $$`.execute(h.db);
    await sql`
      CREATE TRIGGER fail_once AFTER UPDATE ON notifications
      FOR EACH STATEMENT EXECUTE FUNCTION fail_once()`.execute(h.db);
    try {
      const requestsBefore = await deliveryRequestsOf(id);
      const retried = await h.call(admin, 'POST', `/v1/notifications/${id}/retry`);
      expect(retried.statusCode).toBe(202);
      expect(retried.json()).toMatchObject({ id, status: 'pending' });
      expect(await deliveryRequestsOf(id)).toBe(requestsBefore + 1);
      expect(await sql`SELECT id FROM fail_once`.execute(h.db)).toMatchObject({ rows: [] });
    } finally {
      await sql`DROP TRIGGER fail_once ON notifications`.execute(h.db);
      await sql`DROP FUNCTION fail_once()`.execute(h.db);
      await sql`DROP TABLE fail_once`.execute(h.db);
    }
  });
});

describe('pending sweep', () => {
  it('re-enqueues a notification left pending too long', async () => {
    const id = randomUUID();
    const address = `swept-${id.slice(0, 8)}@example.test`;
    // As if its delivery message had been lost: stored long ago, never enqueued.
    await h.db
      .insertInto('notifications')
      .values(
        strayNotification({
          id,
          recipient: address,
          subject: 'Left behind',
          body: 'Delivered by the sweep.',
          updated_at: new Date(Date.now() - 3_600_000),
        }),
      )
      .execute();

    const mail = await eventually(() => h.sink.mailsTo(address)[0]);
    expect(mail).toMatchObject({ subject: 'Left behind', text: 'Delivered by the sweep.' });
    // The sink sees the mail before the worker records the provider's answer.
    await eventually(
      async () => {
        const row = await h.db
          .selectFrom('notifications')
          .select('status')
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        return row.status === 'sent';
      },
      { what: 'swept notification marked sent' },
    );
  });

  it('hands out again a notification whose worker died mid-send, once its lease runs out', async () => {
    const address = `orphan-${randomUUID().slice(0, 8)}@example.test`;
    const leased = (id: string, leasedUntil: Date) =>
      strayNotification({
        id,
        recipient: address,
        subject: `Lease until ${leasedUntil.toISOString()}`,
        body: 'Claimed by a worker that is gone.',
        lease_token: randomUUID(),
        leased_until: leasedUntil,
      });
    // Claimed just now, so not stale: one lease ran out unrenewed, the other is a send in progress.
    const [orphan, inFlight] = [randomUUID(), randomUUID()];
    await h.db
      .insertInto('notifications')
      .values([
        leased(orphan, new Date(Date.now() - 1_000)),
        leased(inFlight, new Date(Date.now() + 3_600_000)),
      ])
      .execute();

    const mail = await eventually(() => h.sink.mailsTo(address)[0]);
    expect(mail.text).toBe('Claimed by a worker that is gone.');
    const row = await eventually(async () => {
      const found = await h.db
        .selectFrom('notifications')
        .selectAll()
        .where('id', '=', orphan)
        .executeTakeFirstOrThrow();
      return found.status === 'sent' && found;
    });
    // The dead worker's send counts as an attempt, and so does the one that went out.
    expect(row).toMatchObject({ attempts: 2, lease_token: null, leased_until: null });
    const untouched = await h.db
      .selectFrom('notifications')
      .select(['status', 'lease_token'])
      .where('id', '=', inFlight)
      .executeTakeFirstOrThrow();
    expect(untouched.status).toBe('pending');
    expect(untouched.lease_token).not.toBeNull();
    expect(h.sink.mailsTo(address)).toHaveLength(1);
  });
});

describe('a send that ends without a recorded outcome', () => {
  it('counts: an SMS provider failing with a NUL in its answer fails the notice after the limit, dead-lettered', async () => {
    const sam = await smsPerson('+4915100000001');
    sms.answer(500, 'bad\0');
    const event = confirmed(bookingFacts({ userId: sam.sub, eventName: 'Null Night' }));
    await h.publish(event);

    const failed = await rowWhen(event.id, 'failed', 30_000);
    expect(failed.attempts).toBe(MAX_ATTEMPTS);
    expect(failed.last_error).toBe('provider answered 500: bad');
    const dead = await deadLetterOf(failed.id);
    expect(String(dead.properties.headers?.['x-happening-error'])).toContain(
      'provider answered 500: bad',
    );
    const failedEvent = await eventually(() =>
      h.published.find(
        (e) => e.type === 'notification.notification_failed' && e.data.notificationId === failed.id,
      ),
    );
    expect(failedEvent.data).toMatchObject({ attempts: MAX_ATTEMPTS, error: failed.last_error });
    expect(providerCalls(failed.id)).toHaveLength(MAX_ATTEMPTS);
    sms.answer(200);
  });

  it('records a provider message id holding a NUL: the SMS is sent once', async () => {
    const sam = await smsPerson('+4915100000002');
    sms.answer(200, JSON.stringify({ id: 'prov\u0000nul' }));
    const event = confirmed(bookingFacts({ userId: sam.sub, eventName: 'Null Id' }));
    await h.publish(event);

    const sent = await rowWhen(event.id, 'sent');
    expect(sent).toMatchObject({ attempts: 1, provider_message_id: 'provnul' });
    const sentEvent = await eventually(() =>
      h.published.find(
        (e) => e.type === 'notification.notification_sent' && e.data.notificationId === sent.id,
      ),
    );
    expect(sentEvent.data).toMatchObject({ providerMessageId: 'provnul' });
    expect(providerCalls(sent.id)).toHaveLength(1);
    sms.answer(200);
  });

  it('gives a notification up once abandoned sends (a worker dying mid-send) used its attempts', async () => {
    const before = await h.counted('email', 'failed');
    const id = randomUUID();
    const address = `abandoned-${id.slice(0, 8)}@example.test`;
    // Its last attempt's worker claimed it and was gone: the lease ran out unrenewed.
    await h.db
      .insertInto('notifications')
      .values(
        strayNotification({
          id,
          recipient: address,
          subject: 'Never recorded',
          attempts: MAX_ATTEMPTS - 1,
          lease_token: randomUUID(),
          leased_until: new Date(Date.now() - 1_000),
        }),
      )
      .execute();

    const failed = await eventually(async () => {
      const row = await h.db
        .selectFrom('notifications')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return row.status === 'failed' && row;
    });
    expect(failed).toMatchObject({
      attempts: MAX_ATTEMPTS,
      last_error: UNRECORDED_SEND,
      lease_token: null,
      leased_until: null,
    });
    const failedEvent = await eventually(() =>
      h.published.find(
        (e) => e.type === 'notification.notification_failed' && e.data.notificationId === id,
      ),
    );
    expect(failedEvent.data).toMatchObject({ attempts: MAX_ATTEMPTS, error: UNRECORDED_SEND });
    await eventually(async () => (await h.counted('email', 'failed')) === before + 1, {
      what: 'email failure counted',
    });
    expect(h.sink.mailsTo(address)).toEqual([]);
  });
});

describe('a permanent rejection', () => {
  /**
   * Delivers a fresh pending notification directly, as its first of three attempts were its last:
   * a worker that threw on a permanent rejection would send it to the dead-letter queue, so it
   * must resolve 'failed' even then. (Through the broker, a throw on attempt 1 would only retry.)
   */
  async function deliveredAsLast(channel: 'email' | 'sms', recipient: string) {
    const id = randomUUID();
    await h.db
      .insertInto('notifications')
      .values(strayNotification({ id, channel, recipient, subject: 'Refused', body: 'Refused.' }))
      .execute();
    const deps = {
      db: h.db,
      adapters: h.adapters,
      sealedBox: h.sealedBox,
      logger: pino({ level: 'silent' }),
      maxAttempts: MAX_ATTEMPTS,
    };
    const outcome = await deliverNotification(deps, id, { isLast: true });
    const row = await h.db
      .selectFrom('notifications')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return { outcome, row };
  }

  it('cuts a long refusal before a number its bound would split, so no digits of it show', async () => {
    const number = '+4915100000007';
    const kim = await smsPerson(number);
    // The number starts at character 196 of the answer, so a cut at 200 would keep "+491".
    sms.answer(400, `${'x'.repeat(185)} to number ${number} refused`);
    const event = confirmed(bookingFacts({ userId: kim.sub, eventName: 'Long Refusal' }));
    await h.publish(event);

    const failed = await rowWhen(event.id, 'failed');
    const { error } = (await failedEventOf(failed.id)).data as { error: string };
    expect(error).toMatch(/^provider answered 400: x+ to number …$/);
  });

  it('fails an SMS its provider refuses with 400 at once: one call, no retry, no dead letter', async () => {
    const sam = await smsPerson('+4915100000003');
    const before = await h.counted('sms', 'failed');
    sms.answer(400, JSON.stringify({ error: 'invalid number' }));
    const event = confirmed(bookingFacts({ userId: sam.sub, eventName: 'Wrong Number' }));
    await h.publish(event);

    const failed = await rowWhen(event.id, 'failed');
    expect(failed.attempts).toBe(1);
    expect(failed.last_error).toBe('provider answered 400: {"error":"invalid number"}');
    expect((await failedEventOf(failed.id)).data).toMatchObject({ attempts: 1, channel: 'sms' });
    await eventually(async () => (await h.counted('sms', 'failed')) === before + 1, {
      what: 'sms failure counted',
    });
    expect(providerCalls(failed.id)).toHaveLength(1);

    const last = await deliveredAsLast('sms', '+4915100000003');
    expect(last.outcome).toBe('failed');
    expect(last.row).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: 'provider answered 400: {"error":"invalid number"}',
    });
    expect(providerCalls(last.row.id)).toHaveLength(1);
    sms.answer(200);
  });

  it('still retries an SMS its provider answers 503, and sends it once the provider is back', async () => {
    const sam = await smsPerson('+4915100000004');
    sms.answer(503);
    const event = confirmed(bookingFacts({ userId: sam.sub, eventName: 'Busy Provider' }));
    await h.publish(event);

    const retrying = await eventually(async () => {
      const row = await rowOf(event.id);
      return row && row.attempts >= 2 && row;
    });
    expect(retrying.status).toBe('pending');
    expect(retrying.last_error).toContain('provider answered 503');
    sms.answer(200);
    const sent = await rowWhen(event.id, 'sent');
    expect(sent.attempts).toBeGreaterThanOrEqual(3);
    expect(providerCalls(sent.id)).toHaveLength(sent.attempts);
  });

  it('fails an email to a mailbox the server refuses with 550 at once: one attempt, no dead letter', async () => {
    const cy = await h.registered('Cy');
    h.sink.reject(cy.email, 550);
    const event = confirmed(bookingFacts({ userId: cy.sub, eventName: 'No Such Mailbox' }));
    await h.publish(event);

    const failed = await rowWhen(event.id, 'failed');
    expect(failed.attempts).toBe(1);
    expect(failed.last_error).toContain('550');
    expect((await failedEventOf(failed.id)).data).toMatchObject({ attempts: 1, channel: 'email' });
    expect(h.sink.recipientAttempts(cy.email)).toBe(1);
    expect(h.sink.mailsTo(cy.email)).toEqual([]);

    const last = await deliveredAsLast('email', cy.email);
    expect(last.outcome).toBe('failed');
    expect(last.row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(last.row.last_error).toContain('550');
    expect(h.sink.recipientAttempts(cy.email)).toBe(2);
    expect(h.sink.mailsTo(cy.email)).toEqual([]);
    h.sink.accept(cy.email);
  });

  it('leaves an address without a dotted domain out of the refusal an integrator reads', async () => {
    const { sub, email } = await h.registered(
      'Lo',
      undefined,
      `${randomUUID().slice(0, 8)}@localhost`,
    );
    h.sink.reject(email, 550, `5.1.1 <${email.toUpperCase()}>: unknown user`);
    const event = confirmed(bookingFacts({ userId: sub, eventName: 'Local Mailbox' }));
    await h.publish(event);

    const failed = await rowWhen(event.id, 'failed');
    expect(failed.last_error).toContain(email.toUpperCase());
    const { error } = (await failedEventOf(failed.id)).data as { error: string };
    expect(error).toContain('550');
    expect(error).toContain('<recipient>');
    expect(error.toLowerCase()).not.toContain(email.split('@')[0]);
    h.sink.accept(email);
  });

  it('still retries an email the server defers with 451, and sends it once accepted', async () => {
    const di = await h.registered('Di');
    h.sink.reject(di.email, 451);
    const event = confirmed(bookingFacts({ userId: di.sub, eventName: 'Greylisted' }));
    await h.publish(event);

    await eventually(async () => ((await rowOf(event.id))?.attempts ?? 0) >= 2);
    h.sink.accept(di.email);
    const sent = await rowWhen(event.id, 'sent');
    expect(sent.attempts).toBeGreaterThanOrEqual(3);
    expect(h.sink.recipientAttempts(di.email)).toBe(sent.attempts);
    expect(h.sink.mailsTo(di.email).map((m) => m.subject)).toEqual([
      'Booking confirmed: Greylisted',
    ]);
  });

  it('retries an email refused with 554 5.7.1 at RCPT TO (a relay refusing us, not the mailbox), then dead-letters it', async () => {
    const gus = await h.registered('Gus');
    h.sink.reject(gus.email, 554, `5.7.1 <${gus.email}>: Relay access denied`);
    const event = confirmed(bookingFacts({ userId: gus.sub, eventName: 'Relay Denied' }));
    await h.publish(event);

    const failed = await rowWhen(event.id, 'failed', 30_000);
    expect(failed.attempts).toBe(MAX_ATTEMPTS);
    expect(failed.last_error).toContain('554 5.7.1');
    const dead = await deadLetterOf(failed.id);
    expect(String(dead.properties.headers?.['x-happening-error'])).toContain('Relay access denied');
    expect(h.sink.recipientAttempts(gus.email)).toBe(MAX_ATTEMPTS);
    expect(h.sink.mailsTo(gus.email)).toEqual([]);
    h.sink.accept(gus.email);
  });
});

describe('an invite’s sealed accept link', () => {
  it('is dropped once the invite is sent, and kept while it failed, for its retry', async () => {
    const orgId = randomUUID();
    const inviteTo = (email: string, url: string) =>
      memberInvited(orgId, email, (facts) => sealInviteLink(h.inviteLinks, facts, url));
    const link = () =>
      `https://app.happening.test/invites/accept?token=tok${randomUUID().replaceAll('-', '')}`;

    const deliveredUrl = link();
    const delivered = inviteTo(
      `sealed-sent-${randomUUID().slice(0, 8)}@example.test`,
      deliveredUrl,
    );
    await h.publish(delivered);
    expect((await h.mailTo(delivered.data.email, 'invited')).text).toContain(deliveredUrl);
    expect((await rowWhen(delivered.id, 'sent')).sealed_body).toBeNull();

    const refusedUrl = link();
    const refusedEmail = `sealed-failed-${randomUUID().slice(0, 8)}@example.test`;
    h.sink.reject(refusedEmail, 550);
    const refused = inviteTo(refusedEmail, refusedUrl);
    await h.publish(refused);
    const failed = await rowWhen(refused.id, 'failed');
    expect(failed.sealed_body).not.toBeNull();
    expect(failed.sealed_body).not.toContain(refusedUrl);
    expect(h.sealedBox.open(failed.sealed_body ?? '')).toContain(refusedUrl);

    h.sink.accept(refusedEmail);
    const admin = await memberOf(orgId, 'orgAdmin');
    expect((await h.call(admin, 'POST', `/v1/notifications/${failed.id}/retry`)).statusCode).toBe(
      202,
    );
    expect((await h.mailTo(refusedEmail, 'invited')).text).toContain(refusedUrl);
    expect((await rowWhen(refused.id, 'sent')).sealed_body).toBeNull();
  });
});

describe('contact details changed while a notice waits for its retry', () => {
  it('sends the retry to the email the person has now, and stores it', async () => {
    const eve = await h.registered('Eve');
    await h.sink.stop();
    const event = confirmed(bookingFacts({ userId: eve.sub, eventName: 'Moved Mailbox' }));
    await h.publish(event);
    await eventually(async () => ((await rowOf(event.id))?.attempts ?? 0) >= 1);
    const newEmail = `moved-${eve.email}`;
    await h.deliver(userRegistered(eve.sub, newEmail, 'Eve', undefined, 2));
    await h.sink.start();

    await h.mailTo(newEmail, 'Booking confirmed: Moved Mailbox');
    const sent = await rowWhen(event.id, 'sent');
    expect(sent.recipient).toBe(newEmail);
    expect(h.sink.mailsTo(eve.email)).toEqual([]);
  });

  it('sends an orgAdmin’s retry of a failed SMS to the phone the person has now', async () => {
    const sam = await smsPerson('+4915100000005');
    sms.answer(400);
    const facts = bookingFacts({ userId: sam.sub });
    const event = confirmed(facts);
    await h.publish(event);
    const failed = await rowWhen(event.id, 'failed');
    expect(failed.recipient).toBe('+4915100000005');

    await h.deliver(userRegistered(sam.sub, sam.email, 'Sam', '+4915100000006', 2));
    sms.answer(200);
    const admin = await memberOf(facts.orgId, 'orgAdmin');
    expect((await h.call(admin, 'POST', `/v1/notifications/${failed.id}/retry`)).statusCode).toBe(
      202,
    );
    const sent = await rowWhen(event.id, 'sent');
    expect(sent.recipient).toBe('+4915100000006');
    expect(providerCalls(sent.id).map((r) => r.body.to)).toEqual([
      '+4915100000005',
      '+4915100000006',
    ]);
  });

  it('sends a cancellation notice waiting for its retry to the new email once, though a late promotion asks for it again', async () => {
    const eve = await h.registered('Eve');
    const eventId = randomUUID();
    const orgId = randomUUID();
    const facts = bookingFacts({ userId: eve.sub, eventId, orgId });
    const waitlist = waitlisted(facts);
    await h.publish(waitlist);
    await rowWhen(waitlist.id, 'sent');
    await h.sink.stop();
    const cancellation = eventCancelled(eventId, orgId);
    await h.publish(cancellation);
    await eventually(async () => ((await rowOf(cancellation.id))?.attempts ?? 0) >= 1);
    // The email changes while the notice waits; the promotion decided before the cancellation
    // is handled then: its notice is the cancellation's, which Eve already has.
    const newEmail = `moved-${eve.email}`;
    await h.deliver(userRegistered(eve.sub, newEmail, 'Eve', undefined, 2));
    const promotion = promoted(facts);
    await h.publish(promotion);
    await h.noticed(promotion.id);
    expect(await h.notificationsOf(cancellation.id)).toHaveLength(1);
    await h.sink.start();

    await h.mailTo(newEmail, 'Event cancelled');
    const sent = await rowWhen(cancellation.id, 'sent');
    expect(sent.recipient).toBe(newEmail);
    expect(await h.notificationsOf(cancellation.id)).toHaveLength(1);
    expect(h.sink.mailsTo(newEmail).map((m) => m.subject)).toEqual([
      'Event cancelled: Rust Meetup',
    ]);
  });

  it('sends an invite to the address invited, whatever its holder’s email is now', async () => {
    const fay = await h.registered('Fay');
    await h.sink.stop();
    const url = `https://app.happening.test/invites/accept?token=tok${randomUUID().slice(0, 8)}`;
    const invite = memberInvited(randomUUID(), fay.email, (facts) =>
      sealInviteLink(h.inviteLinks, facts, url),
    );
    await h.publish(invite);
    await eventually(async () => ((await rowOf(invite.id))?.attempts ?? 0) >= 1);
    await h.deliver(userRegistered(fay.sub, `moved-${fay.email}`, 'Fay', undefined, 2));
    await h.sink.start();

    const mail = await h.mailTo(fay.email, 'invited');
    expect(mail.text).toContain(url);
    expect((await rowWhen(invite.id, 'sent')).recipient).toBe(fay.email);
  });
});
