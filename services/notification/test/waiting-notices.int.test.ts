import { randomUUID } from 'node:crypto';
import { HEADERS } from '@happening/messaging';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOX_CONSUMER } from '../src/modules/inbound/domain-event.handler.ts';
import {
  bookingFacts,
  cancelled,
  confirmed,
  eventCancelled,
  eventUpdated,
  promoted,
  userRegistered,
  waitlisted,
} from './events.fixture.ts';
import { type Harness, startHarness } from './harness.ts';

const EXPIRY_MS = 7 * 24 * 3_600_000;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ retryDelaysMs: [200, 400], waitingNoticeExpiryMs: EXPIRY_MS });
});

afterAll(async () => {
  await h?.stop();
});

/** The source events of the notices waiting for a person, oldest first. */
async function waitingFor(userId: string): Promise<string[]> {
  const rows = await h.db
    .selectFrom('waiting_notices')
    .select('source_event_id')
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => r.source_event_id);
}

/** An unlabelled metric as `/metrics` shows it; it must be exported. */
async function exported(name: string): Promise<number> {
  const value = await h.metric(name);
  if (value === undefined) throw new Error(`${name} not exported`);
  return value;
}

const waitingGauge = () => exported('happening_notifications_waiting');
const givenUpCount = () => exported('happening_waiting_notices_given_up_total');

/** Ids of the messages dead-lettered from notification.events so far (taking them off). */
async function deadLettered(): Promise<string[]> {
  const ids: string[] = [];
  for (let message = await h.take('notification.dlq'); message; ) {
    ids.push(String(message.properties.messageId));
    message = await h.take('notification.dlq');
  }
  return ids;
}

const subjects = (address: string, subject: string) =>
  h.sink.mailsTo(address).filter((m) => m.subject === subject);

describe('notices for a person whose contact details have not arrived', () => {
  it('mails a confirmation handled before its owner’s details, once they arrive, once', async () => {
    const before = await waitingGauge();
    const lea = await h.user('Lea');
    const facts = bookingFacts({ userId: lea.sub, eventName: 'Early Booking' });
    const booking = confirmed(facts);
    await h.publish(booking);
    // Acknowledged at once, the notice kept: identity may be down for longer than any retry.
    await h.noticed(booking.id);
    expect(await h.notificationsOf(booking.id)).toEqual([]);
    expect(await waitingFor(lea.sub)).toEqual([booking.id]);
    expect(await waitingGauge()).toBe(before + 1);

    await h.publish(userRegistered(lea.sub, lea.email, 'Lea'));
    const mail = await h.mailTo(lea.email, 'Early Booking');
    expect(mail.subject).toBe('Booking confirmed: Early Booking');
    expect(mail.text).toContain('Hello Lea,');
    expect(mail.text).toContain('Seat numbers: 12 and 13');
    const [row, ...others] = await h.notificationsOf(booking.id);
    expect(others).toEqual([]);
    expect(row).toMatchObject({
      user_id: lea.sub,
      recipient: lea.email,
      channel: 'email',
      type: 'booking_confirmed',
      booking_id: facts.bookingId,
      correlation_id: booking.correlationId,
    });
    expect(await waitingFor(lea.sub)).toEqual([]);
    expect(await waitingGauge()).toBe(before);

    // Identity announces Lea again (a new name); a later notice shows everything before it went.
    await h.deliver(userRegistered(lea.sub, lea.email, 'Lea L.', undefined, 2));
    await h.publish(cancelled(facts, 'by_owner'));
    await h.mailTo(lea.email, 'Booking cancelled');
    expect(subjects(lea.email, 'Booking confirmed: Early Booking')).toHaveLength(1);
    expect(await h.notificationsOf(booking.id)).toHaveLength(1);
    expect(await deadLettered()).not.toContain(booking.id);
  });

  it('tells a holder an update fanned out before their details arrived, and only them', async () => {
    const ann = await h.registered('Ann');
    const gus = await h.user('Gus');
    const eventId = randomUUID();
    const orgId = randomUUID();
    const annBooking = confirmed(bookingFacts({ userId: ann.sub, eventId, orgId }));
    const gusBooking = confirmed(bookingFacts({ userId: gus.sub, eventId, orgId }));
    for (const booking of [annBooking, gusBooking]) {
      await h.publish(booking);
      await h.noticed(booking.id);
    }
    const update = eventUpdated(eventId, orgId);
    await h.publish(update);
    await h.noticed(update.id);
    await h.mailTo(ann.email, 'Event updated');
    expect((await h.notificationsOf(update.id)).map((r) => r.user_id)).toEqual([ann.sub]);
    expect(await waitingFor(gus.sub)).toEqual([gusBooking.id, update.id]);

    await h.publish(userRegistered(gus.sub, gus.email, 'Gus'));
    const mail = await h.mailTo(gus.email, 'Event updated');
    expect(mail.text).toContain('Hello Gus,');
    expect(mail.text).toContain('- Venue: Hall A → Hall B');
    await h.mailTo(gus.email, 'Booking confirmed');
    const told = await h.notificationsOf(update.id);
    expect(told.map((r) => r.user_id).sort()).toEqual([ann.sub, gus.sub].sort());
    expect(subjects(ann.email, 'Event updated: Rust Meetup')).toHaveLength(1);
    expect(subjects(gus.email, 'Event updated: Rust Meetup')).toHaveLength(1);
    expect(await waitingFor(gus.sub)).toEqual([]);
  });

  it('tells a holder a cancellation fanned out before their details arrived', async () => {
    const ann = await h.registered('Ann');
    const gus = await h.user('Gus');
    const eventId = randomUUID();
    const orgId = randomUUID();
    // Gus's booking was cancelled because of the event (no notice of its own): the event's
    // cancellation is the only thing he is told.
    const bookings = [
      confirmed(bookingFacts({ userId: ann.sub, eventId, orgId })),
      cancelled(bookingFacts({ userId: gus.sub, eventId, orgId }), 'event_cancelled'),
    ];
    for (const booking of bookings) await h.deliver(booking);
    const cancellation = eventCancelled(eventId, orgId);
    await h.publish(cancellation);
    await h.noticed(cancellation.id);
    await h.mailTo(ann.email, 'Event cancelled');

    await h.publish(userRegistered(gus.sub, gus.email, 'Gus'));
    const mail = await h.mailTo(gus.email, 'Event cancelled');
    expect(mail.text).toContain('Reason: The speaker is ill');
    const told = await h.notificationsOf(cancellation.id);
    expect(told.map((r) => r.user_id).sort()).toEqual([ann.sub, gus.sub].sort());
    expect(subjects(ann.email, 'Event cancelled: Rust Meetup')).toHaveLength(1);
    expect(h.sink.mailsTo(gus.email).map((m) => m.subject)).toEqual([mail.subject]);
  });

  it('keeps one waiting notice for a booking event delivered again, and mails it once', async () => {
    const kim = await h.user('Kim');
    const facts = bookingFacts({ userId: kim.sub, eventName: 'Delivered Thrice' });
    const booking = confirmed(facts);
    await h.publish(booking, 3);
    await h.noticed(booking.id);
    // Delivered again after the inbox forgot it (its entries are pruned after 7 days).
    await h.db
      .deleteFrom('inbox')
      .where('consumer', '=', INBOX_CONSUMER)
      .where('message_id', '=', booking.id)
      .execute();
    await h.publish(booking);
    await h.noticed(booking.id);
    expect(await waitingFor(kim.sub)).toEqual([booking.id]);

    await h.publish(userRegistered(kim.sub, kim.email, 'Kim'));
    await h.mailTo(kim.email, 'Delivered Thrice');
    // And again once it was mailed.
    await h.publish(booking);
    await h.publish(cancelled(facts, 'by_owner'));
    await h.mailTo(kim.email, 'Booking cancelled');
    expect(subjects(kim.email, 'Booking confirmed: Delivered Thrice')).toHaveLength(1);
    expect(await h.notificationsOf(booking.id)).toHaveLength(1);
  });

  it('tells everyone whose details arrive while their booking is handled', async () => {
    const people = await Promise.all(Array.from({ length: 30 }, (_, i) => h.user(`R${i}`)));
    const bookings = people.map((p) =>
      confirmed(bookingFacts({ userId: p.sub, eventName: `Race ${p.sub.slice(0, 8)}` })),
    );
    // Handled side by side (the consumer takes ten at a time).
    await Promise.all(
      people.flatMap((p, i) => [
        h.publish(bookings[i]!),
        h.publish(userRegistered(p.sub, p.email, p.sub)),
      ]),
    );
    for (const [i, p] of people.entries()) {
      await h.mailTo(p.email, `Race ${p.sub.slice(0, 8)}`);
      expect(await h.notificationsOf(bookings[i]!.id)).toHaveLength(1);
    }
    for (const p of people) expect(await waitingFor(p.sub)).toEqual([]);
  });

  it('writes only the newest of a booking’s notices that waited together', async () => {
    const zoe = await h.user('Zoe');
    const facts = bookingFacts({ userId: zoe.sub, eventName: 'Waited Together' });
    const onTheList = waitlisted(facts, 2, 1);
    const offTheList = promoted(facts, [4, 5], 2);
    for (const event of [onTheList, offTheList]) {
      await h.publish(event);
      await h.noticed(event.id);
    }
    expect(await waitingFor(zoe.sub)).toEqual([onTheList.id, offTheList.id]);

    await h.deliver(userRegistered(zoe.sub, zoe.email, 'Zoe'));
    // The same write-time checks as any notice: the waitlist notice is overtaken by the promotion.
    expect(await h.notificationsOf(onTheList.id)).toEqual([]);
    const [row, ...others] = await h.notificationsOf(offTheList.id);
    expect(others).toEqual([]);
    expect(row).toMatchObject({ type: 'waitlist_promoted', booking_version: 2 });
    await h.mailTo(zoe.email, 'Waited Together');
    expect(h.sink.mailsTo(zoe.email).map((m) => m.subject)).toEqual([
      'Good news: your seats for Waited Together are confirmed',
    ]);
    expect(await waitingFor(zoe.sub)).toEqual([]);
  });

  it('gives a notice up once it waited longer than WAITING_NOTICE_EXPIRY_MS', async () => {
    const ned = await h.user('Ned');
    const booking = confirmed(bookingFacts({ userId: ned.sub, eventName: 'Too Long Ago' }));
    await h.publish(booking);
    await h.noticed(booking.id);
    await sql`UPDATE waiting_notices SET created_at = ${new Date(Date.now() - EXPIRY_MS - 60_000)}
              WHERE user_id = ${ned.sub}`.execute(h.db);
    // Not written, even before the retention job has deleted it.
    await h.deliver(userRegistered(ned.sub, ned.email, 'Ned'));
    expect(await h.notificationsOf(booking.id)).toEqual([]);
    await h.runtime.pruneNow();
    expect(await waitingFor(ned.sub)).toEqual([]);
  });
});

describe('a waiting notice that can never be written', () => {
  /** Whether the person's contact details were projected. */
  const projected = async (userId: string) =>
    (await h.db
      .selectFrom('recipients')
      .select('user_id')
      .where('user_id', '=', userId)
      .executeTakeFirst()) !== undefined;

  it('is given up, and holds back neither its person’s details nor their other notices', async () => {
    const pia = await h.user('Pia');
    const good = confirmed(bookingFacts({ userId: pia.sub, eventName: 'Still Fine' }));
    const broken = confirmed(bookingFacts({ userId: pia.sub, eventName: 'Older Release' }));
    for (const event of [good, broken]) {
      await h.publish(event);
      await h.noticed(event.id);
    }
    expect(await waitingFor(pia.sub)).toEqual([good.id, broken.id]);
    // As a row kept by an older release would be after a contract change: its stored envelope
    // lacks a field the contract now requires, and no longer parses.
    await sql`UPDATE waiting_notices SET source_event = source_event #- '{data,bookingId}'
              WHERE source_event_id = ${broken.id}`.execute(h.db);

    const givenUpBefore = await givenUpCount();
    const registration = userRegistered(pia.sub, pia.email, 'Pia');
    await h.publish(registration);
    const mail = await h.mailTo(pia.email, 'Still Fine');
    expect(mail.text).toContain('Hello Pia,');
    expect(await projected(pia.sub)).toBe(true);
    // Sent (recorded just after the mail went).
    await eventually(
      async () => (await h.notificationsOf(good.id)).map((r) => r.status).join() === 'sent',
      { what: 'the waiting notice recorded sent' },
    );
    // Given up: not written, no longer waiting, and counted for the alert.
    expect(await h.notificationsOf(broken.id)).toEqual([]);
    expect(await waitingFor(pia.sub)).toEqual([]);
    expect(await givenUpCount()).toBe(givenUpBefore + 1);

    // Her details are known: a later notice is written at once, not kept waiting.
    const later = confirmed(bookingFacts({ userId: pia.sub, eventName: 'Booked Later' }));
    await h.publish(later);
    await h.noticed(later.id);
    expect(await waitingFor(pia.sub)).toEqual([]);
    await h.mailTo(pia.email, 'Booked Later');
    expect(
      h.sink
        .mailsTo(pia.email)
        .map((m) => m.subject)
        .sort(),
    ).toEqual(['Booking confirmed: Booked Later', 'Booking confirmed: Still Fine']);
    const dead = await deadLettered();
    for (const event of [registration, good, broken, later]) expect(dead).not.toContain(event.id);
  });

  it('is given up when its template fails to render; a notice handled directly then is dead-lettered at once', async () => {
    // A newer version of a template that fails to render (a helper no release registers).
    await sql`INSERT INTO templates (type, channel, locale, version, subject, body)
              VALUES ('booking_waitlisted', 'email', 'en', 99, 'On the waitlist',
                      '{{noSuchHelper eventName}}')`.execute(h.db);
    try {
      const quinn = await h.user('Quinn');
      const unrenderable = waitlisted(bookingFacts({ userId: quinn.sub, eventName: 'No Seat' }));
      const good = confirmed(bookingFacts({ userId: quinn.sub, eventName: 'A Seat' }));
      for (const event of [unrenderable, good]) {
        await h.publish(event);
        await h.noticed(event.id);
      }
      expect(await waitingFor(quinn.sub)).toEqual([unrenderable.id, good.id]);

      const registration = userRegistered(quinn.sub, quinn.email, 'Quinn');
      await h.publish(registration);
      await h.mailTo(quinn.email, 'A Seat');
      expect(await projected(quinn.sub)).toBe(true);
      expect(await h.notificationsOf(unrenderable.id)).toEqual([]);
      expect(await waitingFor(quinn.sub)).toEqual([]);
      expect(h.sink.mailsTo(quinn.email).map((m) => m.subject)).toEqual([
        'Booking confirmed: A Seat',
      ]);
      expect(await deadLettered()).not.toContain(registration.id);

      // The same template failing for a person already known: it fails on every delivery, so
      // the message goes to the DLQ on its first, with the reason.
      const rex = await h.registered('Rex');
      const direct = waitlisted(bookingFacts({ userId: rex.sub, eventName: 'Known Person' }));
      await h.publish(direct);
      const message = await eventually(
        async () => {
          const taken = await h.take('notification.dlq');
          return taken && String(taken.properties.messageId) === direct.id && taken;
        },
        { what: 'the waitlist notice dead-lettered' },
      );
      expect(String(message.properties.headers?.[HEADERS.error])).toMatch(
        /^unprocessable: rendering booking_waitlisted on email \(template version 99\) failed: .*noSuchHelper/,
      );
      expect(message.properties.headers?.[HEADERS.attempts]).toBe(1);
      expect(await h.notificationsOf(direct.id)).toEqual([]);
    } finally {
      await sql`DELETE FROM templates WHERE version = 99`.execute(h.db);
    }
  });
});
