import { randomBytes, randomUUID } from 'node:crypto';
import { createSealedBox, sealInviteLink } from '@happening/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES } from '../../../migrations/20250601000100_default_templates.ts';
import { TEMPLATES_WITH_EVENT_CHANGES } from '../../../migrations/20251122000800_booking_templates_with_event_changes.ts';
import { TEMPLATES_IN_EVENT_ZONE } from '../../../migrations/20251125000000_event_times_in_event_zone.ts';
import { PROMOTION_WITH_EVENT_CHANGES } from '../../../migrations/20251126000000_waitlist_promoted_with_event_changes.ts';
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

describe('templates showing times in the event’s zone', () => {
  /** The newest version of each type and channel over every migration. */
  const newest = new Map<string, { version: number; subject: string; body: string }>();
  const all = [
    ...DEFAULT_TEMPLATES.map(([t, c, subject, body]) => [t, c, 1, subject, body] as const),
    ...TEMPLATES_WITH_EVENT_CHANGES.map(
      ([t, c, subject, body]) => [t, c, 2, subject, body] as const,
    ),
    ...TEMPLATES_IN_EVENT_ZONE,
    ...PROMOTION_WITH_EVENT_CHANGES,
  ];
  for (const [type, channel, version, subject, body] of all) {
    const key = `${type}|${channel}`;
    if ((newest.get(key)?.version ?? 0) < version) newest.set(key, { version, subject, body });
  }
  const renderNewest = (type: string, channel: string, context: Record<string, unknown>) => {
    const t = newest.get(`${type}|${channel}`)!;
    return renderer.render({ type, channel, locale: 'en', ...t }, { ...context, name: 'Ada' });
  };

  it('are each the version before them with the event’s zone, one version up', () => {
    for (const [type, channel, version, subject, body] of TEMPLATES_IN_EVENT_ZONE) {
      const before =
        version === 3
          ? TEMPLATES_WITH_EVENT_CHANGES.find(([t, c]) => t === type && c === channel)
          : DEFAULT_TEMPLATES.find(([t, c]) => t === type && c === channel);
      expect(before, `${type} ${channel}`).toBeDefined();
      const [, , oldSubject, oldBody] = before!;
      expect(subject).toBe(oldSubject);
      expect(body).toBe(
        oldBody.replaceAll('{{when eventStartsAt}}', '{{when eventStartsAt timezone}}'),
      );
    }
  });

  it('leave no event time of a notice without its zone, which every plan gives', () => {
    for (const plan of plans) {
      for (const channel of ['email', 'sms', 'push']) {
        const { body } = newest.get(`${plan.type}|${channel}`)!;
        expect(body, `${plan.type} ${channel}`).not.toContain('{{when eventStartsAt}}');
        if (body.includes('timezone')) expect(typeof plan.context.timezone).toBe('string');
        const message = renderNewest(plan.type, channel, {
          ...plan.context,
          acceptUrl: plan.secrets.acceptUrl?.reveal(),
        });
        expect(message.body).not.toMatch(/\{\{|\}\}|undefined|\[object/);
      }
    }
  });

  it('show the time in the event’s zone, named, or in UTC saying so', () => {
    const confirmation = plans.find((p) => p.type === 'booking_confirmed')!.context;
    expect(
      renderNewest('booking_confirmed', 'email', { ...confirmation, timezone: 'Europe/Paris' })
        .body,
    ).toContain('When: Tuesday, 3 March 2026 at 20:00 (Europe/Paris)');
    expect(renderNewest('booking_confirmed', 'email', confirmation).body).toContain(
      'When: Tuesday, 3 March 2026 at 19:00 UTC',
    );
    const cancellation = plans.find((p) => p.type === 'event_cancelled')!.context;
    expect(
      renderNewest('event_cancelled', 'sms', { ...cancellation, timezone: 'America/New_York' })
        .body,
    ).toContain('on Tuesday, 3 March 2026 at 14:00 (America/New_York) is cancelled');
  });
});

describe('the promotion email with the event’s changes (version 3)', () => {
  const [type, channel, version, subject, body] = PROMOTION_WITH_EVENT_CHANGES[0]!;
  const context = { ...plans.find((p) => p.type === 'waitlist_promoted')!.context, name: 'Ada' };
  const renderVersion3 = (extra: Record<string, unknown> = {}) =>
    renderer.render(
      { type, channel, locale: 'en', version, subject, body },
      { ...context, ...extra },
    );

  it('says the booking moved from the waitlist to confirmed, with its seats', () => {
    expect(renderVersion3()).toEqual({
      subject: 'Good news: your seats for Rust Meetup are confirmed',
      body: [
        'Hello Ada,',
        '',
        'Your booking for Rust Meetup has moved from the waitlist to confirmed: seats freed up for you.',
        '',
        'When: Tuesday, 3 March 2026 at 19:00 UTC',
        'Seats: 2',
        'Seat numbers: 4 and 5',
        '',
        'See you there!',
        '',
        '— Happening',
      ].join('\n'),
    });
  });

  it('lists what changed, after the current details', () => {
    const changes = [
      {
        label: 'Start',
        from: 'Tuesday, 3 March 2026 at 18:00 UTC',
        to: 'Tuesday, 3 March 2026 at 19:00 UTC',
      },
    ];
    const { body: text } = renderVersion3({ changes });
    expect(text).toContain(
      [
        'Seat numbers: 4 and 5',
        '',
        'The organizer changed this event recently; the details above are the current ones:',
        '- Start: Tuesday, 3 March 2026 at 18:00 UTC → Tuesday, 3 March 2026 at 19:00 UTC',
        '',
        'See you there!',
      ].join('\n'),
    );
  });
});
