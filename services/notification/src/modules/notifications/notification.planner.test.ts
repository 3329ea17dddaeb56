import { randomBytes, randomUUID } from 'node:crypto';
import {
  createSealedBox,
  createSealedBoxRing,
  type InviteFacts,
  sealInviteLink,
} from '@happening/contracts';
import { UnprocessableMessage } from '@happening/messaging';
import { describe, expect, it } from 'vitest';
import {
  bookingFacts,
  cancelled,
  confirmed,
  eventCancelled,
  eventChange,
  eventSnapshot,
  eventUpdated,
  memberInvited,
  memberInvitedV1,
  promoted,
  userRegistered,
  waitlisted,
} from '../../../test/events.fixture.ts';
import {
  eventZoneOf,
  planNoticeFor,
  planNotification as planWith,
  planWithKnownVersions,
} from './notification.planner.ts';

const inviteLinks = createSealedBox(randomBytes(32));
const planNotification = (event: Parameters<typeof planWith>[0]) => planWith(event, inviteLinks);

describe('planNotification', () => {
  it('tells the owner about a confirmed booking with seats and seat numbers', () => {
    const facts = bookingFacts();
    const plan = planNotification(confirmed(facts, [3, 4]));
    expect(plan).toMatchObject({
      type: 'booking_confirmed',
      audience: { kind: 'user', userId: facts.userId },
      orgId: facts.orgId,
      eventId: facts.eventId,
      bookingId: facts.bookingId,
      context: { eventName: 'Rust Meetup', seats: 2, seatNumbers: [3, 4] },
    });
  });

  it('carries the waitlist position', () => {
    const plan = planNotification(waitlisted(bookingFacts(), 7));
    expect(plan?.context).toMatchObject({ waitlistPosition: 7 });
  });

  it('skips cancellations caused by the event being cancelled, or by its waitlist closing', () => {
    expect(planNotification(cancelled(bookingFacts(), 'event_cancelled'))).toBeUndefined();
    expect(planNotification(cancelled(bookingFacts(), 'event_completed'))).toBeUndefined();
    expect(planNotification(cancelled(bookingFacts(), 'by_organizer'))?.context).toMatchObject({
      byOrganizer: true,
    });
  });

  it('fans event updates out to active holders and cancellations also to bookings it cancelled', () => {
    const eventId = randomUUID();
    const orgId = randomUUID();
    expect(planNotification(eventUpdated(eventId, orgId))?.audience).toEqual({
      kind: 'eventHolders',
      eventId,
      includeCancelledWithEvent: false,
    });
    expect(planNotification(eventCancelled(eventId, orgId))?.audience).toEqual({
      kind: 'eventHolders',
      eventId,
      includeCancelledWithEvent: true,
    });
  });

  it('describes what changed in an update', () => {
    const plan = planNotification(eventUpdated(randomUUID(), randomUUID()));
    expect(plan?.context.changes).toEqual([
      expect.objectContaining({ label: 'Start' }),
      { label: 'Venue', from: 'Hall A', to: 'Hall B' },
    ]);
  });

  it('opens the sealed invite link, keeping it out of the clear-text context', () => {
    const url = 'https://app.example/invites/accept?token=secret';
    const plan = planNotification(
      memberInvited(randomUUID(), 'new@example.com', (facts) =>
        sealInviteLink(inviteLinks, facts, url),
      ),
    );
    expect(plan?.audience).toEqual({ kind: 'address', email: 'new@example.com' });
    expect(JSON.stringify(plan?.context)).not.toContain('secret');
    expect(plan?.secrets.acceptUrl?.reveal()).toBe(url);
  });

  it('opens a link sealed under the previous key while the keys rotate', () => {
    const url = 'https://app.example/invites/accept?token=rotating';
    const previous = randomBytes(32);
    const ring = createSealedBoxRing([randomBytes(32), previous]);
    const event = memberInvited(randomUUID(), 'new@example.com', (facts) =>
      sealInviteLink(createSealedBox(previous), facts, url),
    );
    expect(planWith(event, ring)?.secrets.acceptUrl?.reveal()).toBe(url);
  });

  it('plans no email for an invite identity-org did not have mailed, and one for an invite saying it is', () => {
    const invite = memberInvited(randomUUID(), 'new@example.com', (facts) =>
      sealInviteLink(inviteLinks, facts, 'https://app.example/invites/accept?token=t'),
    );
    expect(planNotification({ ...invite, data: { ...invite.data, mailed: false } })).toBe(
      undefined,
    );
    expect(
      planNoticeFor({ ...invite, data: { ...invite.data, mailed: false } }, 'u-1', inviteLinks),
    ).toBeUndefined();
    expect(planNotification({ ...invite, data: { ...invite.data, mailed: true } })?.type).toBe(
      'org_invite',
    );
  });

  it('takes the link of a version 1 invite as it came', () => {
    const url = 'https://app.example/invites/accept?token=old';
    const plan = planNotification(memberInvitedV1(randomUUID(), 'new@example.com', url));
    expect(plan?.secrets.acceptUrl?.reveal()).toBe(url);
  });

  it('declares unprocessable, once revealed, a link sealed under another key or for an invite saying otherwise', () => {
    const url = 'https://app.example/invites/accept?token=secret';
    const otherKey = createSealedBox(randomBytes(32));
    const seals: ((facts: InviteFacts) => string)[] = [
      (facts) => sealInviteLink(otherKey, facts, url),
      (facts) => sealInviteLink(inviteLinks, { ...facts, inviteId: randomUUID() }, url),
      (facts) => sealInviteLink(inviteLinks, { ...facts, email: 'other@example.com' }, url),
      (facts) => sealInviteLink(inviteLinks, { ...facts, role: 'orgAdmin' }, url),
    ];
    for (const seal of seals) {
      const plan = planNotification(memberInvited(randomUUID(), 'new@example.com', seal));
      // Planned without opening it: only writing the notice needs the link.
      expect(plan?.type).toBe('org_invite');
      expect(() => plan?.secrets.acceptUrl?.reveal()).toThrow(UnprocessableMessage);
    }
  });

  it('ignores events that are not notices', () => {
    expect(planNotification(userRegistered(randomUUID(), 'a@example.com', 'A'))).toBeUndefined();
  });
});

describe('planNoticeFor', () => {
  it('addresses a fan-out’s notice to the one holder it is for, with the same news', () => {
    const userId = randomUUID();
    const update = eventUpdated(randomUUID(), randomUUID());
    const plan = planNoticeFor(update, userId, inviteLinks);
    expect(plan?.audience).toEqual({ kind: 'user', userId });
    expect(plan).toEqual({ ...planNotification(update), audience: { kind: 'user', userId } });
  });

  it('keeps a booking notice’s owner, and plans nothing for an event without a notice', () => {
    const facts = bookingFacts();
    expect(planNoticeFor(confirmed(facts), facts.userId, inviteLinks)?.audience).toEqual({
      kind: 'user',
      userId: facts.userId,
    });
    const byEvent = cancelled(facts, 'event_cancelled');
    expect(planNoticeFor(byEvent, facts.userId, inviteLinks)).toBeUndefined();
  });
});

describe('planWithKnownVersions', () => {
  const first = { ...eventSnapshot(randomUUID(), randomUUID()), version: 1 };
  const later = eventChange(first, { startsAt: '2026-03-10T19:00:00.000Z', venue: 'Hall C' });
  const latest = eventChange(later.after, { startsAt: '2026-03-10T20:00:00.000Z' });
  const known = [
    { version: 3, details: latest.after },
    { version: 2, details: later.after },
    { version: 1, details: first },
  ];
  const onEvent = (details: typeof first) =>
    bookingFacts({
      eventId: first.eventId,
      orgId: first.orgId,
      eventName: details.name,
      eventStartsAt: details.startsAt,
    });
  const plannedWithKnown = (event: Parameters<typeof planWith>[0], versions = known) =>
    planWithKnownVersions(event, planNotification(event)!, async () => versions);

  it('tells a booking decided on replaced details the newest ones and what changed, in the event’s zone', async () => {
    for (const event of [
      confirmed(onEvent(first)),
      waitlisted(onEvent(first)),
      promoted(onEvent(first)),
      cancelled(onEvent(first)),
    ]) {
      expect((await plannedWithKnown(event))?.context).toMatchObject({
        eventName: 'Rust Meetup',
        eventStartsAt: latest.after.startsAt,
        timezone: 'Europe/Berlin',
        changes: [
          {
            label: 'Start',
            from: 'Tuesday, 10 March 2026 at 19:00 (Europe/Berlin)',
            to: 'Tuesday, 10 March 2026 at 21:00 (Europe/Berlin)',
          },
        ],
      });
    }
  });

  it('leaves a booking on the newest details, or on a version not known here, as it is, in the event’s zone', async () => {
    for (const booking of [
      confirmed(onEvent(latest.after)),
      confirmed(onEvent({ ...latest.after, startsAt: '2026-03-11T20:00:00.000Z' })),
    ]) {
      const plan = planNotification(booking)!;
      expect(await plannedWithKnown(booking)).toEqual({
        ...plan,
        context: { ...plan.context, timezone: 'Europe/Berlin' },
      });
    }
  });

  it('shows times in UTC when no version of the event is known', async () => {
    const booking = confirmed(onEvent(first));
    expect(planNotification(booking)?.context.timezone).toBe('UTC');
    expect((await plannedWithKnown(booking, []))?.context.timezone).toBe('UTC');
    const cancellation = eventCancelled(first.eventId, first.orgId);
    expect(planNotification(cancellation)?.context.timezone).toBe('UTC');
    expect((await plannedWithKnown(cancellation, []))?.context.timezone).toBe('UTC');
    expect((await plannedWithKnown(cancellation))?.context.timezone).toBe('Europe/Berlin');
  });

  it('takes the zone of the newest version known', () => {
    expect(eventZoneOf(known)).toBe('Europe/Berlin');
    const moved = eventChange(latest.after, { timezone: 'Europe/Paris' }).after;
    expect(eventZoneOf([...known, { version: 4, details: moved }])).toBe('Europe/Paris');
    expect(eventZoneOf([])).toBe('UTC');
  });

  it('tells from an update older than the newest known only what the event still has, as it is now', async () => {
    const plan = await plannedWithKnown(later.update);
    expect(plan?.context).toMatchObject({
      eventStartsAt: latest.after.startsAt,
      venue: 'Hall C',
      changes: [{ label: 'Venue', from: 'Hall B', to: 'Hall C' }],
    });
    expect(plan?.audience).toEqual(planNotification(later.update)?.audience);
    const overtaken = eventChange(first, { startsAt: '2026-03-10T19:00:00.000Z' }).update;
    expect(await plannedWithKnown(overtaken)).toBeUndefined();
  });

  it('leaves the newest update, and one addressed to a single holder keeps its audience', async () => {
    expect(await plannedWithKnown(latest.update)).toEqual(planNotification(latest.update));
    const userId = randomUUID();
    const waiting = planNoticeFor(later.update, userId, inviteLinks)!;
    expect(
      (await planWithKnownVersions(later.update, waiting, async () => known))?.audience,
    ).toEqual({
      kind: 'user',
      userId,
    });
  });

  it('loads the known versions only for the notices told with them', async () => {
    let loads = 0;
    const loadKnown = async () => {
      loads++;
      return known;
    };
    const invite = memberInvited(first.orgId, 'new@example.com', () => 'c2VhbGVk');
    const plan = planNotification(invite)!;
    expect(await planWithKnownVersions(invite, plan, loadKnown)).toEqual(plan);
    expect(loads).toBe(0);
    const booking = confirmed(onEvent(first));
    await planWithKnownVersions(booking, planNotification(booking)!, loadKnown);
    expect(loads).toBe(1);
    await planWithKnownVersions(later.update, planNotification(later.update)!, loadKnown);
    expect(loads).toBe(2);
    // A cancellation's name and start are its own; the versions give its zone.
    const cancellation = eventCancelled(first.eventId, first.orgId);
    await planWithKnownVersions(cancellation, planNotification(cancellation)!, loadKnown);
    expect(loads).toBe(3);
  });
});
