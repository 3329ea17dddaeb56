import { randomBytes, randomUUID } from 'node:crypto';
import { createSealedBox, sealInviteLink } from '@happening/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES } from '../../../migrations/20250601000100_default_templates.ts';
import { TEMPLATES_WITH_EVENT_CHANGES } from '../../../migrations/20251122000800_booking_templates_with_event_changes.ts';
import {
  bookingFacts,
  cancelled,
  confirmed,
  eventCancelled,
  eventUpdated,
  memberInvited,
  promoted,
  waitlisted,
} from '../../../test/events.fixture.ts';
import { planNotification } from '../notifications/notification.planner.ts';
import { createTemplateRenderer } from './template.renderer.ts';

const renderer = createTemplateRenderer();
const facts = bookingFacts();
const url = 'https://app.example/invites/accept?token=abc&x=1';
const inviteLinks = createSealedBox(randomBytes(32));
const plans = [
  confirmed(facts, [12, 13]),
  waitlisted(facts, 4),
  cancelled(facts, 'by_organizer'),
  promoted(facts, [4, 5]),
  eventUpdated(randomUUID(), randomUUID()),
  eventCancelled(randomUUID(), randomUUID()),
  memberInvited(randomUUID(), 'new@example.com', (invite) =>
    sealInviteLink(inviteLinks, invite, url),
  ),
].map((event) => planNotification(event, inviteLinks)!);

function render(type: string, channel: string) {
  const plan = plans.find((p) => p.type === type)!;
  const row = DEFAULT_TEMPLATES.find(([t, c]) => t === type && c === channel)!;
  const [, , subject, body] = row;
  return renderer.render(
    { type, channel, locale: 'en', version: 1, subject, body },
    { ...plan.context, acceptUrl: plan.secrets.acceptUrl?.reveal(), name: 'Ada' },
  );
}

describe('default templates', () => {
  it('exist for every type and channel and render without leftovers', () => {
    for (const plan of plans) {
      for (const channel of ['email', 'sms', 'push']) {
        const message = render(plan.type, channel);
        expect(message.subject.length).toBeGreaterThan(0);
        expect(message.body).not.toMatch(/\{\{|\}\}|undefined|\[object/);
      }
    }
  });

  it('say what happened to a booking', () => {
    expect(render('booking_confirmed', 'email')).toEqual({
      subject: 'Booking confirmed: Rust Meetup',
      body: [
        'Hello Ada,',
        '',
        'Your booking for Rust Meetup is confirmed.',
        '',
        'When: Tuesday, 3 March 2026 at 19:00 UTC',
        'Seats: 2',
        'Seat numbers: 12 and 13',
        '',
        'See you there!',
        '',
        '— Happening',
      ].join('\n'),
    });
    expect(render('booking_waitlisted', 'email').body).toContain(
      'Your position on the waitlist: 4',
    );
    expect(render('booking_cancelled', 'email').body).toContain(
      'The organizer cancelled your booking of 2 seats for Rust Meetup',
    );
    expect(render('waitlist_promoted', 'sms').body).toContain('Seat numbers: 4 and 5');
  });

  it('list what changed and why an event was cancelled', () => {
    const update = render('event_updated', 'email').body;
    expect(update).toContain('- Venue: Hall A → Hall B');
    expect(update).toContain('- Start: Tuesday, 3 March 2026 at 20:00 (Europe/Berlin) →');
    expect(render('event_cancelled', 'email').body).toContain('Reason: The speaker is ill');
  });

  it('put the accept link into the invite unescaped', () => {
    const invite = render('org_invite', 'email');
    expect(invite.subject).toBe('You are invited to join Acme Events on Happening');
    expect(invite.body).toContain(url);
    expect(invite.body).toContain('as an organizer');
  });
});

describe('booking emails with the event’s changes (version 2)', () => {
  function renderVersion2(type: string, context: Record<string, unknown>) {
    const [, channel, subject, body] = TEMPLATES_WITH_EVENT_CHANGES.find(([t]) => t === type)!;
    return renderer.render({ type, channel, locale: 'en', version: 2, subject, body }, context);
  }
  const contextOf = (type: string) => ({
    ...plans.find((p) => p.type === type)!.context,
    name: 'Ada',
  });

  it('render as version 1 when the event did not change', () => {
    for (const type of ['booking_confirmed', 'booking_waitlisted']) {
      expect(renderVersion2(type, contextOf(type))).toEqual(render(type, 'email'));
    }
  });

  it('list what changed, after the current details', () => {
    const changes = [
      {
        label: 'Start',
        from: 'Tuesday, 3 March 2026 at 18:00 UTC',
        to: 'Tuesday, 3 March 2026 at 19:00 UTC',
      },
    ];
    for (const type of ['booking_confirmed', 'booking_waitlisted']) {
      const { body } = renderVersion2(type, { ...contextOf(type), changes });
      expect(body).toContain(
        [
          '',
          'The organizer changed this event recently; the details above are the current ones:',
          '- Start: Tuesday, 3 March 2026 at 18:00 UTC → Tuesday, 3 March 2026 at 19:00 UTC',
          '',
        ].join('\n'),
      );
      expect(body.indexOf('When:')).toBeLessThan(body.indexOf('The organizer changed'));
    }
  });
});
