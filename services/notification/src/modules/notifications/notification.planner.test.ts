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
  eventUpdated,
  memberInvited,
  memberInvitedV1,
  userRegistered,
  waitlisted,
} from '../../../test/events.fixture.ts';
import { planNoticeFor, planNotification as planWith } from './notification.planner.ts';

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

  it('skips cancellations caused by the event being cancelled', () => {
    expect(planNotification(cancelled(bookingFacts(), 'event_cancelled'))).toBeUndefined();
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
