import { type Kysely, sql } from 'kysely';

/**
 * The next version of every template that shows an event's time (booking notices and the
 * event's cancellation): `{{when eventStartsAt timezone}}`, the time in the event's own zone,
 * named ("at 20:00 (Europe/Paris)"), as the update notices already showed it. The service gives
 * `timezone` to all of them: the event's zone when a catalog version of it is known here, "UTC"
 * otherwise (which `when` then says). Versions 1 and 2 showed every such time in UTC, rendered
 * without a zone; they stay as they were, for the notifications that name them.
 */
const lines = (...text: string[]) => text.join('\n');

const SIGNATURE = lines('', '— Happening');

const CHANGES = lines(
  '{{#if changes}}',
  '',
  'The organizer changed this event recently; the details above are the current ones:',
  '{{#each changes}}',
  '- {{label}}: {{from}} → {{to}}',
  '{{/each}}',
  '{{/if}}',
);

export const TEMPLATES_IN_EVENT_ZONE: Array<
  [type: string, channel: string, version: number, subject: string, body: string]
> = [
  [
    'booking_confirmed',
    'email',
    3,
    'Booking confirmed: {{eventName}}',
    lines(
      'Hello {{name}},',
      '',
      'Your booking for {{eventName}} is confirmed.',
      '',
      'When: {{when eventStartsAt timezone}}',
      'Seats: {{seats}}',
      'Seat numbers: {{seatList seatNumbers}}',
      CHANGES,
      '',
      'See you there!',
      SIGNATURE,
    ),
  ],
  [
    'booking_confirmed',
    'sms',
    2,
    'Booking confirmed',
    'Happening: {{seats}} {{plural seats "seat" "seats"}} confirmed for {{eventName}} on {{when eventStartsAt timezone}}. Seat numbers: {{seatList seatNumbers}}.',
  ],
  [
    'booking_confirmed',
    'push',
    2,
    'Booking confirmed: {{eventName}}',
    '{{seats}} {{plural seats "seat" "seats"}} ({{seatList seatNumbers}}) on {{when eventStartsAt timezone}}.',
  ],
  [
    'booking_waitlisted',
    'email',
    3,
    'You are on the waitlist: {{eventName}}',
    lines(
      'Hello {{name}},',
      '',
      '{{eventName}} is full right now, so your booking of {{seats}} {{plural seats "seat" "seats"}} is on the waitlist.',
      '',
      'When: {{when eventStartsAt timezone}}',
      'Your position on the waitlist: {{waitlistPosition}}',
      CHANGES,
      '',
      'Waiting bookings are served first come, first served. We will write to you as soon as seats free up for you.',
      SIGNATURE,
    ),
  ],
  [
    'booking_cancelled',
    'email',
    2,
    'Booking cancelled: {{eventName}}',
    lines(
      'Hello {{name}},',
      '',
      '{{#if byOrganizer}}The organizer cancelled your booking{{else}}Your booking{{/if}} of {{seats}} {{plural seats "seat" "seats"}} for {{eventName}} ({{when eventStartsAt timezone}}){{#unless byOrganizer}} is cancelled{{/unless}}.',
      '{{#if seatNumbers.length}}',
      'Released seat numbers: {{seatList seatNumbers}}',
      '{{/if}}',
      '{{#if wasWaiting}}',
      'The booking was on the waitlist; it has been removed from it.',
      '{{/if}}',
      '{{#if note}}',
      'Note: {{note}}',
      '{{/if}}',
      '',
      'You can book again any time while seats are available.',
      SIGNATURE,
    ),
  ],
  [
    'booking_cancelled',
    'sms',
    2,
    'Booking cancelled',
    'Happening: your booking of {{seats}} {{plural seats "seat" "seats"}} for {{eventName}} on {{when eventStartsAt timezone}} is cancelled.',
  ],
  [
    'booking_cancelled',
    'push',
    2,
    'Booking cancelled: {{eventName}}',
    'Your booking of {{seats}} {{plural seats "seat" "seats"}} on {{when eventStartsAt timezone}} is cancelled.',
  ],
  [
    'waitlist_promoted',
    'email',
    2,
    'Good news: your seats for {{eventName}} are confirmed',
    lines(
      'Hello {{name}},',
      '',
      'Seats freed up and your waiting booking for {{eventName}} is now confirmed.',
      '',
      'When: {{when eventStartsAt timezone}}',
      'Seats: {{seats}}',
      'Seat numbers: {{seatList seatNumbers}}',
      '',
      'See you there!',
      SIGNATURE,
    ),
  ],
  [
    'waitlist_promoted',
    'sms',
    2,
    'Off the waitlist',
    'Happening: you are off the waitlist! {{seats}} {{plural seats "seat" "seats"}} confirmed for {{eventName}} on {{when eventStartsAt timezone}}. Seat numbers: {{seatList seatNumbers}}.',
  ],
  [
    'waitlist_promoted',
    'push',
    2,
    'Confirmed: {{eventName}}',
    'You are off the waitlist: {{seats}} {{plural seats "seat" "seats"}} ({{seatList seatNumbers}}) on {{when eventStartsAt timezone}}.',
  ],
  [
    'event_cancelled',
    'email',
    2,
    'Event cancelled: {{eventName}}',
    lines(
      'Hello {{name}},',
      '',
      'We are sorry: {{eventName}}, planned for {{when eventStartsAt timezone}}, has been cancelled by the organizer.',
      '{{#if reason}}',
      'Reason: {{reason}}',
      '{{/if}}',
      '',
      'Your booking is cancelled with it; there is nothing you need to do.',
      SIGNATURE,
    ),
  ],
  [
    'event_cancelled',
    'sms',
    2,
    'Event cancelled',
    'Happening: {{eventName}} on {{when eventStartsAt timezone}} is cancelled. Your booking is cancelled with it.',
  ],
  [
    'event_cancelled',
    'push',
    2,
    'Event cancelled: {{eventName}}',
    '{{eventName}} on {{when eventStartsAt timezone}} is cancelled.{{#if reason}} Reason: {{reason}}{{/if}}',
  ],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [type, channel, version, subject, body] of TEMPLATES_IN_EVENT_ZONE) {
    await sql`
      INSERT INTO templates (type, channel, locale, version, subject, body)
      VALUES (${type}, ${channel}, 'en', ${version}, ${subject}, ${body})
      ON CONFLICT DO NOTHING`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [type, channel, version] of TEMPLATES_IN_EVENT_ZONE) {
    await sql`
      DELETE FROM templates
      WHERE type = ${type} AND channel = ${channel} AND locale = 'en' AND version = ${version}`.execute(
      db,
    );
  }
}
