import { randomBytes, randomUUID } from 'node:crypto';
import { createSealedBox, sealInviteLink } from '@happening/contracts';
import { DEFAULT_RETENTION } from '@happening/db';
import { HEADERS } from '@happening/messaging';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bookingFacts,
  cancelled,
  confirmed,
  eventCancelled,
  eventUpdated,
  memberInvited,
  memberInvitedV1,
  promoted,
  userRegistered,
  waitlisted,
} from './events.fixture.ts';
import { type Harness, startHarness, type TestUser } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ retryDelaysMs: [200, 400] });
});

afterAll(async () => {
  await h?.stop();
});

/** The event's projections are done (its notices, if any, may still be on their way). */
const handled = (messageId: string) =>
  eventually(
    () =>
      h.db
        .selectFrom('inbox')
        .select('message_id')
        .where('message_id', '=', messageId)
        .executeTakeFirst(),
    { what: `message ${messageId} handled` },
  );

describe('booking notices', () => {
  it('mails the owner a confirmation with event, date, seats and seat numbers', async () => {
    const ada = await h.registered();
    const facts = bookingFacts({ userId: ada.sub });
    const event = confirmed(facts, [12, 13]);
    await h.publish(event);

    const mail = await h.mailTo(ada.email, 'Booking confirmed');
    expect(mail.subject).toBe('Booking confirmed: Rust Meetup');
    expect(mail.text).toContain('Hello Ada Lovelace,');
    expect(mail.text).toContain('When: Tuesday, 3 March 2026 at 19:00 UTC');
    expect(mail.text).toContain('Seats: 2');
    expect(mail.text).toContain('Seat numbers: 12 and 13');

    const [row] = await eventually(async () => {
      const rows = await h.notificationsOf(event.id);
      return rows[0]?.status === 'sent' && rows;
    });
    expect(row).toMatchObject({
      user_id: ada.sub,
      org_id: facts.orgId,
      event_id: facts.eventId,
      booking_id: facts.bookingId,
      type: 'booking_confirmed',
      channel: 'email',
      recipient: ada.email,
      attempts: 1,
      template_version: 3,
    });
    expect(row?.provider_message_id).toBeTruthy();
    // One Message-ID per notification, so every attempt at it sends the same one.
    expect(mail.headers.get('message-id')).toBe(`<${row?.id}@happening.test>`);
    expect(row?.sent_at).toBeInstanceOf(Date);
    expect(mail.headers.get('x-happening-notification-id')).toBe(row?.id);

    const sent = await eventually(() =>
      h.published.find(
        (e) => e.type === 'notification.notification_sent' && e.data.notificationId === row?.id,
      ),
    );
    expect(sent).toMatchObject({
      source: 'notification',
      orgId: facts.orgId,
      correlationId: event.correlationId,
      causationId: event.id,
      data: { sourceEventId: event.id, channel: 'email', type: 'booking_confirmed', attempts: 1 },
    });
  });

  it('mails the waitlist position, the promotion seats and a cancellation', async () => {
    const ada = await h.registered();
    const facts = bookingFacts({ userId: ada.sub });
    await h.publish(waitlisted(facts, 3));
    expect((await h.mailTo(ada.email, 'waitlist')).text).toContain(
      'Your position on the waitlist: 3',
    );

    await h.publish(promoted(facts, [4, 5]));
    const promotion = await h.mailTo(ada.email, 'are confirmed');
    expect(promotion.text).toContain('Seat numbers: 4 and 5');

    await h.publish(cancelled(facts, 'by_owner', 3));
    const cancellation = await h.mailTo(ada.email, 'Booking cancelled');
    expect(cancellation.text).toContain('Your booking of 2 seats for Rust Meetup');
    expect(cancellation.text).toContain('is cancelled');
  });

  it('sends nothing for a cancellation caused by the event being cancelled', async () => {
    const ada = await h.registered();
    const event = cancelled(bookingFacts({ userId: ada.sub }), 'event_cancelled');
    await h.publish(event);
    await handled(event.id);
    expect(await h.notificationsOf(event.id)).toEqual([]);
  });

  it('sends nothing for a waiting booking closed by its event taking place, and records it cancelled', async () => {
    const ada = await h.registered();
    const facts = bookingFacts({ userId: ada.sub });
    const closed = cancelled(facts, 'event_completed', 3);
    await h.publish(closed);
    await handled(closed.id);
    expect(await h.notificationsOf(closed.id)).toEqual([]);
    expect(
      await h.db
        .selectFrom('event_holders')
        .select(['status', 'cancel_reason'])
        .where('booking_id', '=', facts.bookingId)
        .executeTakeFirst(),
    ).toEqual({ status: 'cancelled', cancel_reason: 'event_completed' });
  });

  it('sends one email for an event delivered three times', async () => {
    const ada = await h.registered();
    const facts = bookingFacts({ userId: ada.sub, eventName: 'Triple Delivery' });
    const event = confirmed(facts);
    await h.publish(event, 3);
    await h.mailTo(ada.email, 'Triple Delivery');

    // A later notice to the same person arrives only after the duplicates went through the inbox.
    await h.publish(cancelled(facts, 'by_owner'));
    await h.mailTo(ada.email, 'Booking cancelled');
    expect(
      h.sink.mailsTo(ada.email).filter((m) => m.subject === 'Booking confirmed: Triple Delivery'),
    ).toHaveLength(1);
    expect(await h.notificationsOf(event.id)).toHaveLength(1);
  });
});

describe('event notices', () => {
  it('fans an update out to every holder of a confirmed or waiting booking and no one else', async () => {
    const [a, b, c, d, x] = await Promise.all(
      ['Ann', 'Ben', 'Cem', 'Dora', 'Xavier'].map((name) => h.registered(name)),
    );
    const eventId = randomUUID();
    const orgId = randomUUID();
    const on = (user: TestUser) => bookingFacts({ userId: user.sub, eventId, orgId });
    const cFacts = on(c!);
    const bookings = [
      confirmed(on(a!)),
      waitlisted(on(b!)),
      confirmed(cFacts),
      cancelled(cFacts, 'by_owner'),
      promoted(on(d!)),
      confirmed(bookingFacts({ userId: x!.sub })),
    ];
    for (const booking of bookings) await h.publish(booking);
    await Promise.all(bookings.map((booking) => handled(booking.id)));

    const update = eventUpdated(eventId, orgId);
    await h.publish(update);
    for (const holder of [a!, b!, d!]) {
      const mail = await h.mailTo(holder.email, 'Event updated');
      expect(mail.text).toContain('- Venue: Hall A → Hall B');
      expect(mail.text).toContain('- Start: Tuesday, 3 March 2026 at 20:00 (Europe/Berlin) →');
    }
    const rows = await h.notificationsOf(update.id);
    expect(rows.map((r) => r.user_id).sort()).toEqual([a!.sub, b!.sub, d!.sub].sort());
    expect(h.sink.mailsTo(c!.email).some((m) => m.subject.includes('Event updated'))).toBe(false);
    expect(h.sink.mailsTo(x!.email).some((m) => m.subject.includes('Event updated'))).toBe(false);
  });

  it('tells a booking handled after its event’s cancellation of the cancellation, once', async () => {
    const [late, waiting] = await Promise.all([h.registered('Lou'), h.registered('Wes')]);
    const eventId = randomUUID();
    const orgId = randomUUID();
    const waitingFacts = bookingFacts({ userId: waiting.sub, eventId, orgId });
    const waitlist = waitlisted(waitingFacts);
    await h.publish(waitlist);
    await h.mailTo(waiting.email, 'waitlist');
    const cancellation = eventCancelled(eventId, orgId);
    await h.publish(cancellation);
    await h.mailTo(waiting.email, 'Event cancelled');
    // Handled after the cancellation fanned out (delivered concurrently, or retried): a new
    // confirmation, and a promotion of someone the cancellation already told.
    const confirmation = confirmed(bookingFacts({ userId: late.sub, eventId, orgId }));
    const promotion = promoted(waitingFacts);
    for (const event of [confirmation, promotion]) {
      await h.publish(event);
      await h.noticed(event.id);
    }
    const mail = await h.mailTo(late.email, 'Event cancelled');
    expect(mail.text).toContain('Reason: The speaker is ill');
    const rows = await h.notificationsOf(cancellation.id);
    expect(
      rows
        .filter((r) => r.channel === 'email')
        .map((r) => r.user_id)
        .sort(),
    ).toEqual([late.sub, waiting.sub].sort());
    expect(h.sink.mailsTo(late.email).map((m) => m.subject)).toEqual([mail.subject]);
    expect(h.sink.mailsTo(waiting.email).map((m) => m.subject)).toEqual([
      'You are on the waitlist: Rust Meetup',
      'Event cancelled: Rust Meetup',
    ]);
  });

  it('tells a person of the cancellation once, though their email changed before their late promotion', async () => {
    const wes = await h.registered('Wes');
    const eventId = randomUUID();
    const orgId = randomUUID();
    const facts = bookingFacts({ userId: wes.sub, eventId, orgId });
    await h.publish(waitlisted(facts));
    await h.mailTo(wes.email, 'waitlist');
    const cancellation = eventCancelled(eventId, orgId);
    await h.publish(cancellation);
    await h.mailTo(wes.email, 'Event cancelled');
    // Wes's email changes; then the promotion, decided before the cancellation, is handled.
    const moved = `moved-${wes.email}`;
    await h.deliver(userRegistered(wes.sub, moved, 'Wes', undefined, 2));
    const promotion = promoted(facts);
    await h.publish(promotion);
    await h.noticed(promotion.id);

    const notices = await h.notificationsOf(cancellation.id);
    expect(notices.map((r) => [r.user_id, r.channel, r.recipient])).toEqual([
      [wes.sub, 'email', wes.email],
    ]);
    expect(await h.notificationsOf(promotion.id)).toEqual([]);
    // A later notice reaches the new address alone: the cancellation did not go there too.
    await h.publish(confirmed(bookingFacts({ userId: wes.sub, eventName: 'Next Meetup' })));
    await h.mailTo(moved, 'Next Meetup');
    expect(h.sink.mailsTo(moved).map((m) => m.subject)).toEqual(['Booking confirmed: Next Meetup']);
  });

  it('forgets an event’s cancellation once it is older than the inbox keeps message ids', async () => {
    const [old, recent] = [
      eventCancelled(randomUUID(), randomUUID()),
      eventCancelled(randomUUID(), randomUUID()),
    ];
    for (const cancellation of [old, recent]) await h.publish(cancellation);
    const recorded = () =>
      h.db
        .selectFrom('cancelled_events')
        .select('event_id')
        .where('event_id', 'in', [old.data.eventId, recent.data.eventId])
        .execute();
    await eventually(async () => (await recorded()).length === 2);
    await h.db
      .updateTable('cancelled_events')
      .set({ created_at: new Date(Date.now() - DEFAULT_RETENTION.inboxMs - 60_000) })
      .where('event_id', '=', old.data.eventId)
      .execute();
    await h.runtime.pruneNow();
    expect(await recorded()).toEqual([{ event_id: recent.data.eventId }]);
  });

  it('forgets finished notifications after their retention, never a pending one', async () => {
    const person = await h.registered('Kept');
    const bookings = [1, 2].map(() => confirmed(bookingFacts({ userId: person.sub })));
    for (const booked of bookings) await h.publish(booked);
    for (const booked of bookings) await h.noticed(booked.id);
    const mine = () =>
      h.db.selectFrom('notifications').select(['id', 'status']).where('user_id', '=', person.sub);
    await eventually(
      async () => (await mine().where('status', '=', 'sent').execute()).length === 2,
    );
    const [stillPending] = await mine().execute();
    // Finished 91 days ago, one of them still to be sent however old (the updated_at trigger set
    // aside, as a restore would).
    await h.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL session_replication_role = replica`.execute(trx);
      await trx
        .updateTable('notifications')
        .set({ updated_at: new Date(Date.now() - 91 * 24 * 3_600_000) })
        .where('user_id', '=', person.sub)
        .execute();
      await trx
        .updateTable('notifications')
        .set({ status: 'pending' })
        .where('id', '=', stillPending!.id)
        .execute();
    });
    await h.runtime.pruneNow();
    expect(await mine().execute()).toEqual([{ id: stillPending!.id, status: 'pending' }]);
  });

  it('tells every booking of an event of its cancellation when both arrive at once', async () => {
    const people = await Promise.all(Array.from({ length: 30 }, (_, i) => h.registered(`P${i}`)));
    const eventId = randomUUID();
    const orgId = randomUUID();
    const confirmations = people.map((p) =>
      confirmed(bookingFacts({ userId: p.sub, eventId, orgId })),
    );
    const cancellation = eventCancelled(eventId, orgId);
    // Handled side by side (the consumer takes ten at a time), the cancellation among them.
    await Promise.all(
      [...confirmations.slice(0, 15), cancellation, ...confirmations.slice(15)].map((e) =>
        h.publish(e),
      ),
    );
    await Promise.all([...confirmations, cancellation].map((e) => h.noticed(e.id)));
    const told = await h.notificationsOf(cancellation.id);
    expect(
      told
        .filter((r) => r.channel === 'email')
        .map((r) => r.user_id)
        .sort(),
    ).toEqual(people.map((p) => p.sub).sort());
  });

  it('tells of the cancellation a booking whose event-cancelled cancellation overtook its confirmation', async () => {
    const ida = await h.registered('Ida');
    const eventId = randomUUID();
    const orgId = randomUUID();
    const cancellation = eventCancelled(eventId, orgId);
    await h.publish(cancellation);
    await h.noticed(cancellation.id);
    // The booking service's cancellation of Ida's booking (no notice of its own) is handled
    // before the confirmation it follows.
    const facts = bookingFacts({ userId: ida.sub, eventId, orgId });
    for (const event of [cancelled(facts, 'event_cancelled'), confirmed(facts)]) {
      await h.publish(event);
      await handled(event.id);
    }
    const mail = await h.mailTo(ida.email, 'Event cancelled');
    expect(mail.text).toContain('Reason: The speaker is ill');
  });

  it('sends no update about an event already cancelled, whatever order they arrive in', async () => {
    const ann = await h.registered('Ann');
    const eventId = randomUUID();
    const orgId = randomUUID();
    const booking = confirmed(bookingFacts({ userId: ann.sub, eventId, orgId }));
    await h.deliver(booking);
    // The cancellation (version 4) is handled before the update (version 3) it follows.
    const cancellation = eventCancelled(eventId, orgId);
    await h.deliver(cancellation);
    await h.noticed(cancellation.id);
    const update = eventUpdated(eventId, orgId);
    await h.deliver(update);
    await h.noticed(update.id);
    expect(await h.notificationsOf(update.id)).toEqual([]);
    expect((await h.notificationsOf(cancellation.id)).map((r) => r.user_id)).toEqual([ann.sub]);
  });

  it('does not tell a booking its owner cancelled of the event’s cancellation when its confirmation comes late', async () => {
    const ola = await h.registered('Ola');
    const eventId = randomUUID();
    const orgId = randomUUID();
    const facts = bookingFacts({ userId: ola.sub, eventId, orgId });
    // Ola cancelled (version 2) before the event was; the confirmation (version 1) comes last.
    const ownCancellation = cancelled(facts, 'by_owner');
    const cancellation = eventCancelled(eventId, orgId);
    const confirmation = confirmed(facts);
    for (const event of [ownCancellation, cancellation, confirmation]) {
      await h.deliver(event);
      await h.noticed(event.id);
    }
    expect(await h.notificationsOf(cancellation.id)).toEqual([]);
    expect(await h.notificationsOf(confirmation.id)).toEqual([]);
    expect((await h.notificationsOf(ownCancellation.id)).map((r) => r.type)).toEqual([
      'booking_cancelled',
    ]);
  });

  it('does not send news a later change of the booking overtook', async () => {
    const ada = await h.registered('Ada');
    const facts = bookingFacts({ userId: ada.sub, eventName: 'Overtaken' });
    // The cancellation (version 2) is handled before the confirmation (version 1) it follows.
    const cancellation = cancelled(facts);
    await h.publish(cancellation);
    await h.mailTo(ada.email, 'Booking cancelled');
    const confirmation = confirmed(facts);
    await h.publish(confirmation);
    await h.noticed(confirmation.id);
    expect(await h.notificationsOf(confirmation.id)).toEqual([]);
    expect(h.sink.mailsTo(ada.email).map((m) => m.subject)).toEqual([
      'Booking cancelled: Overtaken',
    ]);
  });

  it('keeps a holder whose booking notice waits for identity, so the cancellation still reaches them', async () => {
    const late = await h.user('Lea');
    const eventId = randomUUID();
    const orgId = randomUUID();
    // Identity's user_registered is late: the confirmation waits for it (test/
    // waiting-notices.int.test.ts), but the holder is known at once.
    const booking = confirmed(bookingFacts({ userId: late.sub, eventId, orgId }));
    await h.publish(booking);
    await eventually(
      () =>
        h.db
          .selectFrom('event_holders')
          .select('user_id')
          .where('event_id', '=', eventId)
          .executeTakeFirst(),
      { what: 'holder projected' },
    );
    expect(await h.notificationsOf(booking.id)).toEqual([]);
    await h.publish(userRegistered(late.sub, late.email, 'Lea'));
    await h.publish(eventCancelled(eventId, orgId));
    const mail = await h.mailTo(late.email, 'Event cancelled');
    expect(mail.text).toContain('Reason: The speaker is ill');
  });

  it('tells holders about a cancelled event once, including bookings it already cancelled', async () => {
    const [a, g] = await Promise.all([h.registered('Ann'), h.registered('Gus')]);
    const eventId = randomUUID();
    const orgId = randomUUID();
    const gFacts = bookingFacts({ userId: g!.sub, eventId, orgId });
    const bookings = [
      confirmed(bookingFacts({ userId: a!.sub, eventId, orgId })),
      confirmed(gFacts),
      cancelled(gFacts, 'event_cancelled'),
    ];
    for (const booking of bookings) await h.publish(booking);
    await Promise.all(bookings.map((booking) => handled(booking.id)));

    await h.publish(eventCancelled(eventId, orgId));
    for (const holder of [a!, g!]) {
      const mail = await h.mailTo(holder.email, 'Event cancelled');
      expect(mail.text).toContain('Reason: The speaker is ill');
    }
    expect(h.sink.mailsTo(g!.email).some((m) => m.subject.includes('Booking cancelled'))).toBe(
      false,
    );
  });
});

describe('invites', () => {
  it('mails the accept link to the invited address without keeping it in clear text', async () => {
    const token = `tok${randomUUID().replaceAll('-', '')}`;
    const url = `https://app.happening.test/invites/accept?token=${token}`;
    const email = `invitee-${randomUUID().slice(0, 8)}@example.test`;
    const event = memberInvited(randomUUID(), email, (facts) =>
      sealInviteLink(h.inviteLinks, facts, url),
    );
    await h.publish(event);

    const mail = await h.mailTo(email, 'invited');
    expect(mail.subject).toBe('You are invited to join Acme Events on Happening');
    expect(mail.text).toContain(url);
    expect(mail.text).toContain('as an organizer');
    // Nothing here knows the reader's zone (neither the invite nor the recipients carry one).
    expect(mail.text).toContain('The invitation expires on Tuesday, 10 March 2026 at 12:00 UTC.');

    const row = await eventually(
      async () => {
        const [found] = await h.notificationsOf(event.id);
        return found?.status === 'sent' && found;
      },
      { what: 'the invite sent' },
    );
    expect(row.type).toBe('org_invite');
    expect(row.body).not.toContain(token);
    expect(row.body).toContain('(the accept link is in the email you received)');
    // Sent, it is never sent again: the sealed link is not kept (a failed one is, for its retry).
    expect(row.sealed_body).toBeNull();
    const dump = await h.db
      .selectFrom('notifications')
      .select((eb) => eb.fn.count('id').as('n'))
      .where((eb) => eb.or([eb('body', 'like', `%${token}%`), eb('subject', 'like', `%${token}%`)]))
      .executeTakeFirstOrThrow();
    expect(Number(dump.n)).toBe(0);
  });

  it('shows an invite in the list of the account holding the address only once it is verified', async () => {
    const claimant = await h.user('Xavier');
    const address = claimant.email;
    const orgInvites = async () => {
      const res = await h.call(claimant, 'GET', '/v1/me/notifications');
      expect(res.statusCode).toBe(200);
      return (res.json().items as Array<{ type: string; orgId: string }>).filter(
        (item) => item.type === 'org_invite',
      );
    };
    const invite = async () => {
      const event = memberInvited(randomUUID(), address, (facts) =>
        sealInviteLink(h.inviteLinks, facts, 'https://app.happening.test/invites/accept?token=t'),
      );
      await h.publish(event);
      await h.noticed(event.id);
      return event;
    };

    // The account's token carries the address, unverified (anyone can claim one).
    await h.deliver(userRegistered(claimant.sub, address, 'Xavier', undefined, 1, false));
    const first = await invite();
    // The address still gets its invite; the account claiming it sees nothing of it.
    await eventually(() => h.sink.mailsTo(address).length === 1, { what: 'the invite mailed' });
    expect((await h.notificationsOf(first.id)).map((row) => row.user_id)).toEqual([null]);
    expect(await orgInvites()).toEqual([]);

    // Verified since: identity-org announces the user's next version.
    await h.deliver(userRegistered(claimant.sub, address, 'Xavier', undefined, 2, true));
    // An older announcement delivered late changes nothing.
    await h.deliver(userRegistered(claimant.sub, address, 'Xavier', undefined, 1, false));
    const second = await invite();
    expect(await orgInvites()).toEqual([
      expect.objectContaining({ orgId: second.data.organizationId }),
    ]);
    await eventually(() => h.sink.mailsTo(address).length === 2, { what: 'both invites mailed' });
  });

  it('links no invite to an account whose announcement does not say the address is verified', async () => {
    // As identity-org announced people before user_registered carried emailVerified.
    const person = await h.registered('Olga');
    const event = memberInvited(randomUUID(), person.email, (facts) =>
      sealInviteLink(h.inviteLinks, facts, 'https://app.happening.test/invites/accept?token=t'),
    );
    await h.publish(event);
    await h.noticed(event.id);
    expect((await h.notificationsOf(event.id)).map((row) => row.user_id)).toEqual([null]);
    const res = await h.call(person, 'GET', '/v1/me/notifications');
    expect(res.json().items).toEqual([]);
  });

  it('writes and mails nothing for an invite identity-org created unmailed', async () => {
    const email = `invitee-${randomUUID().slice(0, 8)}@example.test`;
    const invite = memberInvited(randomUUID(), email, (facts) =>
      sealInviteLink(h.inviteLinks, facts, 'https://app.happening.test/invites/accept?token=t'),
    );
    const unmailed = { ...invite, data: { ...invite.data, mailed: false } };
    const processed = async () =>
      (await h.metric('happening_consumer_messages_total', {
        queue: 'notification.events',
        outcome: 'processed',
      })) ?? 0;
    const before = await processed();
    // Projected, then acknowledged: its handling is over, and it wrote no notice, so nothing is
    // left that could be sent. (It records no notices inbox entry either: there were none.)
    await h.deliver(unmailed);
    await eventually(async () => (await processed()) > before, { what: 'the invite handled' });
    expect(await h.notificationsOf(unmailed.id)).toEqual([]);
    expect(h.sink.mailsTo(email)).toEqual([]);
  });

  it('still mails an invite of version 1, with its link in clear, published before version 2', async () => {
    const url = `https://app.happening.test/invites/accept?token=tok${randomUUID().slice(0, 8)}`;
    const email = `invitee-${randomUUID().slice(0, 8)}@example.test`;
    const event = memberInvitedV1(randomUUID(), email, url);
    await h.publish(event);

    const mail = await h.mailTo(email, 'invited');
    expect(mail.text).toContain(url);
  });

  it('acknowledges an invite it already mailed when it comes again, even if its link no longer opens', async () => {
    const url = `https://app.happening.test/invites/accept?token=tok${randomUUID().slice(0, 8)}`;
    const email = `invitee-${randomUUID().slice(0, 8)}@example.test`;
    const invite = memberInvited(randomUUID(), email, (facts) =>
      sealInviteLink(h.inviteLinks, facts, url),
    );
    await h.publish(invite);
    await h.mailTo(email, 'invited');
    // Delivered again after INVITE_LINK_KEY lost the key it was sealed under: it was handled, so
    // its link is never opened again.
    const rotatedAway = createSealedBox(randomBytes(32));
    const again = memberInvited(randomUUID(), email, (facts) =>
      sealInviteLink(rotatedAway, facts, url),
    );
    await h.publish({ ...again, id: invite.id });
    // A later message of the same queue: by the time it is mailed, the one before it has almost
    // surely been handled too (handlers run concurrently, up to the prefetch).
    const next = `invitee-${randomUUID().slice(0, 8)}@example.test`;
    await h.publish(
      memberInvited(randomUUID(), next, (facts) => sealInviteLink(h.inviteLinks, facts, url)),
    );
    await h.mailTo(next, 'invited');
    const deadIds: string[] = [];
    for (let message = await h.take('notification.dlq'); message; ) {
      deadIds.push(String(message.properties.messageId));
      message = await h.take('notification.dlq');
    }
    expect(deadIds).not.toContain(invite.id);
    expect(h.sink.mailsTo(email)).toHaveLength(1);
    expect(await h.notificationsOf(invite.id)).toHaveLength(1);
  });

  it('dead-letters an invite whose link does not open, at once and saying why', async () => {
    const email = `invitee-${randomUUID().slice(0, 8)}@example.test`;
    const otherKey = createSealedBox(randomBytes(32));
    const url = 'https://app.happening.test/invites/accept?token=wrong-key';
    const wrongKey = memberInvited(randomUUID(), email, (facts) =>
      sealInviteLink(otherKey, facts, url),
    );
    // The right key, but sealed for another address: a captured link replayed to someone else.
    const otherInvite = memberInvited(randomUUID(), email, (facts) =>
      sealInviteLink(h.inviteLinks, { ...facts, email: 'someone-else@example.test' }, url),
    );
    await h.publish(wrongKey);
    await h.publish(otherInvite);

    const dead = new Map<string, string>();
    await eventually(
      async () => {
        const message = await h.take('notification.dlq');
        if (message) {
          dead.set(
            String(message.properties.messageId),
            String(message.properties.headers?.[HEADERS.error]),
          );
        }
        return dead.has(wrongKey.id) && dead.has(otherInvite.id);
      },
      { what: 'both invites dead-lettered' },
    );
    for (const id of [wrongKey.id, otherInvite.id]) {
      expect(dead.get(id)).toMatch(/^unprocessable: .*accept link.*INVITE_LINK_KEY/);
      expect(await h.notificationsOf(id)).toEqual([]);
    }
  });
});

describe('preferences', () => {
  it('answers the full matrix with defaults and validates changes', async () => {
    const ada = await h.registered();
    const initial = await h.call(ada, 'GET', '/v1/me/notification-preferences');
    expect(initial.statusCode).toBe(200);
    const matrix = initial.json().preferences as Array<{
      type: string;
      channel: string;
      enabled: boolean;
    }>;
    expect(matrix).toHaveLength(18);
    expect(matrix.find((p) => p.type === 'event_updated' && p.channel === 'email')?.enabled).toBe(
      true,
    );
    expect(matrix.find((p) => p.type === 'event_updated' && p.channel === 'sms')?.enabled).toBe(
      false,
    );

    const bad = await h.call(ada, 'PUT', '/v1/me/notification-preferences', {
      preferences: [
        { type: 'event_updated', channel: 'email', enabled: false },
        { type: 'event_updated', channel: 'email', enabled: true },
        { type: 'event_updated', channel: 'fax', enabled: true },
      ],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['body.preferences.2.channel']),
    );
  });

  it('refuses unknown fields, naming them, and changes nothing', async () => {
    const ada = await h.registered();
    for (const body of [
      { preferences: [], reset: true },
      { preferences: [{ type: 'event_updated', channel: 'email', enabled: false, mute: 1 }] },
    ]) {
      const res = await h.call(ada, 'PUT', '/v1/me/notification-preferences', body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
      const errors = res.json().errors as { path: string; message: string }[];
      expect(
        errors.some((e) => /reset|mute/.test(e.message)),
        JSON.stringify(errors),
      ).toBe(true);
    }
    const matrix = (await h.call(ada, 'GET', '/v1/me/notification-preferences')).json();
    expect(
      matrix.preferences.find(
        (p: { type: string; channel: string }) =>
          p.type === 'event_updated' && p.channel === 'email',
      ).enabled,
    ).toBe(true);
  });

  it('switches a channel off', async () => {
    const ada = await h.registered();
    const put = await h.call(ada, 'PUT', '/v1/me/notification-preferences', {
      preferences: [{ type: 'booking_confirmed', channel: 'email', enabled: false }],
    });
    expect(put.statusCode).toBe(200);
    expect(
      put
        .json()
        .preferences.find(
          (p: { type: string; channel: string }) =>
            p.type === 'booking_confirmed' && p.channel === 'email',
        ).enabled,
    ).toBe(false);

    const facts = bookingFacts({ userId: ada.sub });
    const event = confirmed(facts);
    await h.publish(event);
    await h.noticed(event.id);
    expect(await h.notificationsOf(event.id)).toEqual([]);

    // Other types keep their default.
    await h.publish(cancelled(facts, 'by_owner'));
    await h.mailTo(ada.email, 'Booking cancelled');
    expect(h.sink.mailsTo(ada.email)).toHaveLength(1);
  });
});

describe('GET /v1/me/notifications', () => {
  it('lists only the caller’s notifications, newest first, page by page and by status', async () => {
    const [ada, bob] = await Promise.all([h.registered('Ada'), h.registered('Bob')]);
    for (const name of ['First', 'Second', 'Third']) {
      await h.publish(confirmed(bookingFacts({ userId: ada.sub, eventName: name })));
      await h.mailTo(ada.email, name);
    }
    await h.publish(confirmed(bookingFacts({ userId: bob.sub, eventName: 'Bobs' })));
    await h.mailTo(bob.email, 'Bobs');
    // The sink sees a mail before the worker records the provider's answer.
    await eventually(
      async () => {
        const unsent = await h.db
          .selectFrom('notifications')
          .select('id')
          .where('user_id', 'in', [ada.sub, bob.sub])
          .where('status', '!=', 'sent')
          .execute();
        return unsent.length === 0;
      },
      { what: 'every notification marked sent' },
    );

    const first = await h.call(ada, 'GET', '/v1/me/notifications?limit=2');
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.items.map((n: { subject: string }) => n.subject)).toEqual([
      'Booking confirmed: Third',
      'Booking confirmed: Second',
    ]);
    expect(page1.items[0]).toMatchObject({
      channel: 'email',
      status: 'sent',
      recipient: ada.email,
    });
    const second = await h.call(
      ada,
      'GET',
      `/v1/me/notifications?limit=2&cursor=${page1.nextCursor}`,
    );
    expect(second.json()).toEqual({
      items: [expect.objectContaining({ subject: 'Booking confirmed: First' })],
      nextCursor: null,
    });

    const pending = await h.call(ada, 'GET', '/v1/me/notifications?status=pending');
    expect(pending.json().items).toEqual([]);
    const bobs = await h.call(bob, 'GET', '/v1/me/notifications');
    expect(bobs.json().items.map((n: { subject: string }) => n.subject)).toEqual([
      'Booking confirmed: Bobs',
    ]);
    const stranger = await h.call(await h.user(), 'GET', '/v1/me/notifications');
    expect(stranger.json()).toEqual({ items: [], nextCursor: null });
  });

  it('mails the newest address a user announced, whatever order the announcements arrive in', async () => {
    const person = await h.registered('Max');
    const moved = `moved-${person.email}`;
    const older = `older-${person.email}`;
    const newest = userRegistered(person.sub, moved, 'Max', undefined, 3);
    const stale = userRegistered(person.sub, older, 'Max', undefined, 2);
    // Projected in the projections' own inbox transaction (no notice to wait for).
    for (const event of [newest, stale]) await h.deliver(event);
    const booking = confirmed(bookingFacts({ userId: person.sub, eventName: 'Moved Meetup' }));
    await h.publish(booking);
    await h.mailTo(moved, 'Moved Meetup');
    expect(h.sink.mailsTo(person.email)).toEqual([]);
    expect(h.sink.mailsTo(older)).toEqual([]);
  });

  it('pages through notifications that share a created_at without skipping any', async () => {
    const reader = await h.registered('Pat');
    const confirmations = ['One', 'Two', 'Three'].map((name) =>
      confirmed(bookingFacts({ userId: reader.sub, eventName: name })),
    );
    for (const event of confirmations) {
      await h.publish(event);
      await h.noticed(event.id);
    }
    // As one source event's notifications are stamped: one timestamp, to the microsecond.
    await sql`UPDATE notifications SET created_at = '2026-01-01 10:00:00.123456+00'
              WHERE user_id = ${reader.sub}`.execute(h.db);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = await h.call(reader, 'GET', `/v1/me/notifications?limit=1${query}`);
      expect(page.statusCode).toBe(200);
      seen.push(...page.json().items.map((item: { id: string }) => item.id));
      cursor = page.json().nextCursor;
    } while (cursor);
    const stored = await h.db
      .selectFrom('notifications')
      .select('id')
      .where('user_id', '=', reader.sub)
      .execute();
    expect(stored.length).toBeGreaterThanOrEqual(3);
    expect(seen.sort()).toEqual(stored.map((row) => row.id).sort());
  });

  it('rejects bad input and missing tokens', async () => {
    const ada = await h.user();
    expect((await h.call(ada, 'GET', '/v1/me/notifications?status=lost')).statusCode).toBe(400);
    expect((await h.call(ada, 'GET', '/v1/me/notifications?cursor=nonsense')).statusCode).toBe(400);
    // A misspelt filter is refused, not ignored: it answered the unfiltered list before.
    const misspelt = await h.call(ada, 'GET', '/v1/me/notifications?Status=failed');
    expect(misspelt.statusCode).toBe(400);
    expect(misspelt.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'query.Status', message: expect.stringContaining('Status') }],
    });
    expect((await h.call(undefined, 'GET', '/v1/me/notifications')).statusCode).toBe(401);
    expect((await h.call(undefined, 'GET', '/v1/me/notification-preferences')).statusCode).toBe(
      401,
    );
    expect(
      (await h.call(undefined, 'POST', `/v1/notifications/${randomUUID()}/retry`)).statusCode,
    ).toBe(401);
  });
});
