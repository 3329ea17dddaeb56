import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@happening/contracts';
import { eventually } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bookingFacts,
  cancelled,
  confirmed,
  type EventSnapshot,
  eventCancelled,
  eventChange,
  eventSnapshot,
  promoted,
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

const AT_18 = 'Tuesday, 10 March 2026 at 18:00 UTC';
const AT_19 = 'Tuesday, 10 March 2026 at 19:00 UTC';
const AT_20 = 'Tuesday, 10 March 2026 at 20:00 UTC';
const CHANGED_NOTE = 'The organizer changed this event recently';

/** A published event at catalog version 1, starting at 18:00 UTC. */
const newEvent = (): EventSnapshot => ({
  ...eventSnapshot(randomUUID(), randomUUID()),
  timezone: 'UTC',
  version: 1,
});

/** A booking's facts as the booking service states them with its copy `details` of the event. */
const bookedOn = (details: EventSnapshot, user: TestUser) =>
  bookingFacts({
    userId: user.sub,
    eventId: details.eventId,
    orgId: details.orgId,
    eventName: details.name,
    eventStartsAt: details.startsAt,
  });

/** The event is handled: its projections and its notices (if any) are written. */
async function handled(event: EventEnvelope): Promise<void> {
  await h.deliver(event);
  await h.noticed(event.id);
}

/** The mails `person` got, in the order sent, once there are `count`. */
async function mailsOf(person: TestUser, count: number) {
  const mails = await eventually(
    () => {
      const all = h.sink.mailsTo(person.email);
      return all.length >= count && all;
    },
    { what: `${count} mails to ${person.email}` },
  );
  return mails.map((m) => ({ subject: m.subject, text: m.text }));
}

describe('a booking decided on event details since changed', () => {
  it('is confirmed with the current details and what changed, when its update fanned out before it was a holder', async () => {
    const [ada, bea] = await Promise.all([h.registered('Ada'), h.registered('Bea')]);
    const published = newEvent();
    const { update } = eventChange(published, {
      name: 'Rust Night',
      startsAt: '2026-03-10T19:00:00.000Z',
      endsAt: '2026-03-10T22:00:00.000Z',
    });
    // The update is handled first (the booking service's relay held its events back), with no
    // holder to tell yet; the bookings carry the details the booking service had when deciding.
    await handled(update);
    expect(await h.notificationsOf(update.id)).toEqual([]);
    await handled(confirmed(bookedOn(published, ada)));
    await handled(waitlisted(bookedOn(published, bea), 2));

    const [confirmation] = await mailsOf(ada, 1);
    expect(confirmation?.subject).toBe('Booking confirmed: Rust Night');
    expect(confirmation?.text).toContain(`When: ${AT_19}`);
    expect(confirmation?.text).toContain(
      [
        `${CHANGED_NOTE}; the details above are the current ones:`,
        `- Start: ${AT_18} → ${AT_19}`,
        '- Name: Rust Meetup → Rust Night',
      ].join('\n'),
    );
    const [waitlist] = await mailsOf(bea, 1);
    expect(waitlist?.subject).toBe('You are on the waitlist: Rust Night');
    expect(waitlist?.text).toContain(`When: ${AT_19}`);
    expect(waitlist?.text).toContain(`- Start: ${AT_18} → ${AT_19}`);
    // Their booking notice is their only message about it.
    expect(h.sink.mailsTo(ada.email)).toHaveLength(1);
    expect(h.sink.mailsTo(bea.email)).toHaveLength(1);
  });

  it('is promoted off the waitlist with the current details and what changed', async () => {
    const eve = await h.registered('Eve');
    const published = newEvent();
    const { update } = eventChange(published, { startsAt: '2026-03-10T19:00:00.000Z' });
    await handled(update);
    // Promoted by the booking service before it applied the update, on the details it had.
    await handled(
      promoted({ ...bookedOn(published, eve), eventVersion: published.version }, [4, 5]),
    );

    const [promotion] = await mailsOf(eve, 1);
    expect(promotion?.subject).toBe('Good news: your seats for Rust Meetup are confirmed');
    expect(promotion?.text).toContain(`When: ${AT_19}`);
    expect(promotion?.text).toContain('Seat numbers: 4 and 5');
    expect(promotion?.text).toContain(
      [
        `${CHANGED_NOTE}; the details above are the current ones:`,
        `- Start: ${AT_18} → ${AT_19}`,
      ].join('\n'),
    );
    expect(promotion?.text).toContain(
      'Your booking for Rust Meetup has moved from the waitlist to confirmed',
    );
  });

  it('tells of a venue-only change when the booking names the catalog version it was decided on', async () => {
    const cleo = await h.registered('Cleo');
    const published = newEvent();
    const { update } = eventChange(published, { venue: 'Hall D' });
    await handled(update);
    // Name and start did not change: only the version the booking carries tells it is stale.
    await handled(confirmed({ ...bookedOn(published, cleo), eventVersion: published.version }));
    const [confirmation] = await mailsOf(cleo, 1);
    expect(confirmation?.text).toContain(
      [
        `${CHANGED_NOTE}; the details above are the current ones:`,
        `- Venue: ${published.venue} → Hall D`,
      ].join('\n'),
    );
  });

  it('tells of a venue change when the version the booking names is none an update told of', async () => {
    const [gus, hal] = await Promise.all([h.registered('Gus'), h.registered('Hal')]);
    // Published at version 2; a capacity raise (no event_updated) makes version 3; the venue
    // change is version 4. Only the last is an update: versions 4 and 3 are known here.
    const published = { ...newEvent(), version: 2 };
    const raised = { ...published, totalSlots: 80, version: 3 };
    const { update, after } = eventChange(raised, { venue: 'Hall D' });
    await handled(update);
    expect(await h.notificationsOf(update.id)).toEqual([]);
    // Booked once the booking service had applied the publication, before the venue change.
    const booking = confirmed({ ...bookedOn(published, gus), eventVersion: published.version });
    await handled(booking);
    // And once it had applied the capacity raise, which it copies as catalog's version 3.
    const waiting = waitlisted({ ...bookedOn(raised, hal), eventVersion: raised.version }, 2);
    await handled(waiting);

    const venueChange = [
      `${CHANGED_NOTE}; the details above are the current ones:`,
      `- Venue: ${published.venue} → Hall D`,
    ].join('\n');
    const [confirmation] = await mailsOf(gus, 1);
    expect(confirmation?.text).toContain(venueChange);
    const [waitlist] = await mailsOf(hal, 1);
    expect(waitlist?.text).toContain(venueChange);
    const [notice] = await h.notificationsOf(booking.id);
    expect(notice?.event_version).toBe(after.version);
  });

  it('adds nothing when the booking was decided on the newest version known', async () => {
    const dan = await h.registered('Dan');
    const published = newEvent();
    const { update, after } = eventChange(published, { venue: 'Hall C' });
    await handled(update);
    await handled(confirmed({ ...bookedOn(after, dan), eventVersion: after.version }));
    const [confirmation] = await mailsOf(dan, 1);
    expect(confirmation?.text).not.toContain(CHANGED_NOTE);
  });

  it('leaves nobody of thirty bookings and the update handled side by side with a stale time', async () => {
    const people = await Promise.all(Array.from({ length: 30 }, (_, i) => h.registered(`P${i}`)));
    const published = newEvent();
    const { update } = eventChange(published, { startsAt: '2026-03-10T19:00:00.000Z' });
    const bookings = people.map((p) => confirmed(bookedOn(published, p)));
    await Promise.all([...bookings.slice(0, 15), update, ...bookings.slice(15)].map(h.publish));
    await Promise.all([...bookings, update].map(handled));

    const told = new Set((await h.notificationsOf(update.id)).map((r) => r.user_id));
    for (const [i, person] of people.entries()) {
      const [confirmation] = await h.notificationsOf(bookings[i]!.id);
      // Either the update reached them as a holder, or their confirmation has the new time.
      expect(
        told.has(person.sub) || confirmation?.body.includes(`When: ${AT_19}`),
        person.sub,
      ).toBe(true);
    }
  });
});

describe('times in the event’s time zone', () => {
  /** Published in Paris at 18:00 UTC, 19:00 there; its venue changed at version 2. */
  async function parisEvent() {
    const published = { ...newEvent(), timezone: 'Europe/Paris' };
    const { update, after } = eventChange(published, { venue: 'Hall D' });
    await handled(update);
    return { published, after };
  }

  it('shows a booking’s time in its event’s zone, named, once an update told the zone', async () => {
    const [ann, ben] = await Promise.all([h.registered('Ann'), h.registered('Ben')]);
    const { published, after } = await parisEvent();
    const facts = { ...bookedOn(after, ann), eventVersion: after.version };
    await handled(confirmed(facts));
    const [confirmation] = await mailsOf(ann, 1);
    expect(confirmation?.text).toContain('When: Tuesday, 10 March 2026 at 19:00 (Europe/Paris)');
    await handled(cancelled(facts, 'by_owner'));
    const [, cancellation] = await mailsOf(ann, 2);
    expect(cancellation?.text).toContain('(Tuesday, 10 March 2026 at 19:00 (Europe/Paris))');

    // Decided before the update: the changes it lists are in the event's zone too.
    const moved = eventChange(after, { startsAt: '2026-03-10T19:00:00.000Z' });
    await handled(moved.update);
    await handled(waitlisted({ ...bookedOn(published, ben), eventVersion: published.version }));
    const [waitlist] = await mailsOf(ben, 1);
    expect(waitlist?.text).toContain('When: Tuesday, 10 March 2026 at 20:00 (Europe/Paris)');
    expect(waitlist?.text).toContain(
      '- Start: Tuesday, 10 March 2026 at 19:00 (Europe/Paris) → Tuesday, 10 March 2026 at 20:00 (Europe/Paris)',
    );
  });

  it('shows an event’s cancellation in its zone, and in UTC, saying so, for an event no update told of', async () => {
    const [cat, dev] = await Promise.all([h.registered('Cat'), h.registered('Dev')]);
    const { after } = await parisEvent();
    const unknown = newEvent();
    await handled(confirmed({ ...bookedOn(after, cat), eventVersion: after.version }));
    await handled(confirmed(bookedOn(unknown, dev)));
    // Mailed before the cancellation, which would overtake them at send time.
    const [catConfirmation] = await mailsOf(cat, 1);
    expect(catConfirmation?.text).toContain('When: Tuesday, 10 March 2026 at 19:00 (Europe/Paris)');
    const [devConfirmation] = await mailsOf(dev, 1);
    expect(devConfirmation?.text).toContain(`When: ${AT_18}`);

    // The fixture's cancellation names 3 March, 19:00 UTC.
    await handled(eventCancelled(after.eventId, after.orgId));
    await handled(eventCancelled(unknown.eventId, unknown.orgId));
    const [, catCancelled] = await mailsOf(cat, 2);
    expect(catCancelled?.text).toContain(
      'planned for Tuesday, 3 March 2026 at 20:00 (Europe/Paris), has been cancelled',
    );
    const [, devCancelled] = await mailsOf(dev, 2);
    expect(devCancelled?.text).toContain(
      'planned for Tuesday, 3 March 2026 at 19:00 UTC, has been cancelled',
    );
  });
});

describe('updates handled out of order', () => {
  it('sends nothing for an update older than one already told, nor twice for one delivered again', async () => {
    const ben = await h.registered('Ben');
    const published = newEvent();
    await handled(confirmed(bookedOn(published, ben)));
    await mailsOf(ben, 1);
    const later = eventChange(published, { startsAt: '2026-03-10T19:00:00.000Z' });
    const latest = eventChange(later.after, { startsAt: '2026-03-10T20:00:00.000Z' });
    // Handled side by side or retried: the newer update first, then twice the older one.
    await handled(latest.update);
    await mailsOf(ben, 2);
    await h.publish(latest.update);
    await handled(later.update);
    await h.publish(later.update);
    // A later message of the same queue: by the time it is mailed, the ones before it have
    // almost surely been handled too (handlers run side by side, up to the prefetch).
    const marker = eventChange(latest.after, { description: 'Bring a laptop' });
    await handled(marker.update);

    expect(await h.notificationsOf(later.update.id)).toEqual([]);
    const mails = await mailsOf(ben, 3);
    expect(mails.map((m) => m.subject)).toEqual([
      'Booking confirmed: Rust Meetup',
      'Event updated: Rust Meetup',
      'Event updated: Rust Meetup',
    ]);
    expect(mails[1]?.text).toContain(`- Start: ${AT_19} → ${AT_20}`);
    expect(mails[1]?.text).toContain(`When: ${AT_20}`);
    expect(mails[2]?.text).toContain('- Description: Talks and pizza → Bring a laptop');
    expect(mails.map((m) => m.text).join('\n')).not.toContain(`→ ${AT_19}`);
  });

  it('tells from an older update only what still holds, with the current time', async () => {
    const cem = await h.registered('Cem');
    const published = newEvent();
    await handled(confirmed(bookedOn(published, cem)));
    await mailsOf(cem, 1);
    const moved = eventChange(published, { venue: 'Hall C' });
    const later = eventChange(moved.after, { startsAt: '2026-03-10T20:00:00.000Z' });
    await handled(later.update);
    await mailsOf(cem, 2);
    await handled(moved.update);

    const mails = await mailsOf(cem, 3);
    expect(mails[1]?.text).toContain(`- Start: ${AT_18} → ${AT_20}`);
    const [venue] = (await h.notificationsOf(moved.update.id)).map((r) => r.body);
    expect(venue).toContain('- Venue: Hall B → Hall C');
    expect(venue).not.toContain('- Start:');
    expect(venue).toContain(`When: ${AT_20}`);
    expect(mails[2]?.text).toBe(venue);
  });
});

describe('bookings and updates in order', () => {
  it('sends what it always sent: the confirmation as booked, then each update', async () => {
    const [dan, eva] = await Promise.all([h.registered('Dan'), h.registered('Eva')]);
    const published = newEvent();
    await handled(confirmed(bookedOn(published, dan), [7]));
    await mailsOf(dan, 1);
    const later = eventChange(published, { startsAt: '2026-03-10T19:00:00.000Z' });
    await handled(later.update);
    await mailsOf(dan, 2);
    const latest = eventChange(later.after, { startsAt: '2026-03-10T20:00:00.000Z' });
    await handled(latest.update);
    // Booked once the booking service had the newest details.
    await handled(confirmed(bookedOn(latest.after, eva), [8]));

    const updated = (from: string, to: string) =>
      [
        'Hello Dan,',
        '',
        'The organizer changed Rust Meetup, which you hold a booking for.',
        '',
        'What changed:',
        `- Start: ${from} → ${to}`,
        '',
        `When: ${to}`,
        'Where: Hall B',
        '',
        'Your booking stays as it is. If the new details do not suit you, you can cancel it.',
        '',
        '— Happening',
      ].join('\n');
    const confirmedAt = (name: string, when: string, seat: number) =>
      [
        `Hello ${name},`,
        '',
        'Your booking for Rust Meetup is confirmed.',
        '',
        `When: ${when}`,
        'Seats: 2',
        `Seat numbers: ${seat}`,
        '',
        'See you there!',
        '',
        '— Happening',
      ].join('\n');
    expect(await mailsOf(dan, 3)).toEqual([
      { subject: 'Booking confirmed: Rust Meetup', text: confirmedAt('Dan', AT_18, 7) },
      { subject: 'Event updated: Rust Meetup', text: updated(AT_18, AT_19) },
      { subject: 'Event updated: Rust Meetup', text: updated(AT_19, AT_20) },
    ]);
    expect(await mailsOf(eva, 1)).toEqual([
      { subject: 'Booking confirmed: Rust Meetup', text: confirmedAt('Eva', AT_20, 8) },
    ]);
  });
});

describe('retention of an event’s holders and versions', () => {
  const daysFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
  const booked = (details: EventSnapshot, user: TestUser) => ({
    ...bookedOn(details, user),
    eventEndsAt: details.endsAt,
  });

  it('forgets them once the latest end known is older than the retention, not before', async () => {
    const [ann, ben, cat, dan] = await Promise.all([
      h.registered('Ann'),
      h.registered('Ben'),
      h.registered('Cat'),
      h.registered('Dan'),
    ]);
    // Over long ago: booked, then moved a little, both ends more than 90 days back.
    const over = { ...newEvent(), startsAt: daysFromNow(-100), endsAt: daysFromNow(-99.9) };
    await handled(confirmed(booked(over, ann)));
    await handled(
      eventChange(over, { startsAt: daysFromNow(-95), endsAt: daysFromNow(-94.9) }).update,
    );
    // Started as long ago, runs for months more (a course), never updated.
    const running = { ...newEvent(), startsAt: daysFromNow(-100), endsAt: daysFromNow(30) };
    await handled(confirmed(booked(running, ben)));
    // Booked for an end as long ago, then prolonged into next month.
    const prolonged = { ...newEvent(), startsAt: daysFromNow(-100), endsAt: daysFromNow(-99.9) };
    await handled(confirmed(booked(prolonged, cat)));
    await handled(eventChange(prolonged, { endsAt: daysFromNow(30) }).update);
    // Prolonged the same way, the update handled before a booking the booking service decided
    // on the old end.
    const late = { ...newEvent(), startsAt: daysFromNow(-100), endsAt: daysFromNow(-99.9) };
    await handled(eventChange(late, { endsAt: daysFromNow(30) }).update);
    await handled(confirmed(booked(late, dan)));

    const kept = async (eventId: string) => ({
      holders: (
        await h.db
          .selectFrom('event_holders')
          .select('user_id')
          .where('event_id', '=', eventId)
          .execute()
      ).map((r) => r.user_id),
      versions: (
        await h.db
          .selectFrom('event_versions')
          .select('catalog_version')
          .where('event_id', '=', eventId)
          .orderBy('catalog_version')
          .execute()
      ).map((r) => r.catalog_version),
    });
    expect(await kept(over.eventId)).toEqual({ holders: [ann.sub], versions: [1, 2] });
    await h.runtime.pruneNow();
    expect(await kept(over.eventId)).toEqual({ holders: [], versions: [] });
    expect(await kept(running.eventId)).toEqual({ holders: [ben.sub], versions: [] });
    // The version from before the change goes with the event, not with its own end.
    expect(await kept(prolonged.eventId)).toEqual({ holders: [cat.sub], versions: [1, 2] });
    expect(await kept(late.eventId)).toEqual({ holders: [dan.sub], versions: [1, 2] });
  });
});
