import { type Kysely, sql } from 'kysely';

/**
 * Version 1 of every template in English. Bodies are plain text rendered with handlebars and the
 * service's helpers: `when` (date in a time zone), `seatList`, `plural`, `roleName`.
 */
const lines = (...text: string[]) => text.join('\n');

const SIGNATURE = lines('', '— Happening');

export const DEFAULT_TEMPLATES: Array<
  [type: string, channel: string, subject: string, body: string]
> = [
  [
    'booking_confirmed',
    'email',
    'Booking confirmed: {{eventName}}',
    lines(
      'Hello {{name}},',
      '',
      'Your booking for {{eventName}} is confirmed.',
      '',
      'When: {{when eventStartsAt}}',
      'Seats: {{seats}}',
      'Seat numbers: {{seatList seatNumbers}}',
      '',
      'See you there!',
      SIGNATURE,
    ),
  ],
  [
    'booking_confirmed',
    'sms',
    'Booking confirmed',
    'Happening: {{seats}} {{plural seats "seat" "seats"}} confirmed for {{eventName}} on {{when eventStartsAt}}. Seat numbers: {{seatList seatNumbers}}.',
  ],
  [
    'booking_confirmed',
    'push',
    'Booking confirmed: {{eventName}}',
    '{{seats}} {{plural seats "seat" "seats"}} ({{seatList seatNumbers}}) on {{when eventStartsAt}}.',
  ],
  [
    'booking_waitlisted',
    'email',
    'You are on the waitlist: {{eventName}}',
    lines(
      'Hello {{name}},',
      '',
      '{{eventName}} is full right now, so your booking of {{seats}} {{plural seats "seat" "seats"}} is on the waitlist.',
      '',
      'When: {{when eventStartsAt}}',
      'Your position on the waitlist: {{waitlistPosition}}',
      '',
      'Waiting bookings are served first come, first served. We will write to you as soon as seats free up for you.',
      SIGNATURE,
    ),
  ],
  [
    'booking_waitlisted',
    'sms',
    'On the waitlist',
    'Happening: {{eventName}} is full. Your booking of {{seats}} {{plural seats "seat" "seats"}} is number {{waitlistPosition}} on the waitlist.',
  ],
  [
    'booking_waitlisted',
    'push',
    'On the waitlist: {{eventName}}',
    'You are number {{waitlistPosition}} on the waitlist for {{seats}} {{plural seats "seat" "seats"}}.',
  ],
  [
    'booking_cancelled',
    'email',
    'Booking cancelled: {{eventName}}',
    lines(
      'Hello {{name}},',
      '',
      '{{#if byOrganizer}}The organizer cancelled your booking{{else}}Your booking{{/if}} of {{seats}} {{plural seats "seat" "seats"}} for {{eventName}} ({{when eventStartsAt}}){{#unless byOrganizer}} is cancelled{{/unless}}.',
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
    'Booking cancelled',
    'Happening: your booking of {{seats}} {{plural seats "seat" "seats"}} for {{eventName}} on {{when eventStartsAt}} is cancelled.',
  ],
  [
    'booking_cancelled',
    'push',
    'Booking cancelled: {{eventName}}',
    'Your booking of {{seats}} {{plural seats "seat" "seats"}} on {{when eventStartsAt}} is cancelled.',
  ],
  [
    'waitlist_promoted',
    'email',
    'Good news: your seats for {{eventName}} are confirmed',
    lines(
      'Hello {{name}},',
      '',
      'Seats freed up and your waiting booking for {{eventName}} is now confirmed.',
      '',
      'When: {{when eventStartsAt}}',
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
    'Off the waitlist',
    'Happening: you are off the waitlist! {{seats}} {{plural seats "seat" "seats"}} confirmed for {{eventName}} on {{when eventStartsAt}}. Seat numbers: {{seatList seatNumbers}}.',
  ],
  [
    'waitlist_promoted',
    'push',
    'Confirmed: {{eventName}}',
    'You are off the waitlist: {{seats}} {{plural seats "seat" "seats"}} ({{seatList seatNumbers}}) on {{when eventStartsAt}}.',
  ],
  [
    'event_updated',
    'email',
    'Event updated: {{eventName}}',
    lines(
      'Hello {{name}},',
      '',
      'The organizer changed {{eventName}}, which you hold a booking for.',
      '',
      'What changed:',
      '{{#each changes}}',
      '- {{label}}: {{from}} → {{to}}',
      '{{/each}}',
      '',
      'When: {{when eventStartsAt timezone}}',
      '{{#if venue}}',
      'Where: {{venue}}',
      '{{/if}}',
      '',
      'Your booking stays as it is. If the new details do not suit you, you can cancel it.',
      SIGNATURE,
    ),
  ],
  [
    'event_updated',
    'sms',
    'Event updated',
    'Happening: {{eventName}} changed ({{#each changes}}{{label}}: {{to}}{{#unless @last}}; {{/unless}}{{/each}}).',
  ],
  [
    'event_updated',
    'push',
    'Event updated: {{eventName}}',
    '{{#each changes}}{{label}}: {{to}}{{#unless @last}}; {{/unless}}{{/each}}',
  ],
  [
    'event_cancelled',
    'email',
    'Event cancelled: {{eventName}}',
    lines(
      'Hello {{name}},',
      '',
      'We are sorry: {{eventName}}, planned for {{when eventStartsAt}}, has been cancelled by the organizer.',
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
    'Event cancelled',
    'Happening: {{eventName}} on {{when eventStartsAt}} is cancelled. Your booking is cancelled with it.',
  ],
  [
    'event_cancelled',
    'push',
    'Event cancelled: {{eventName}}',
    '{{eventName}} on {{when eventStartsAt}} is cancelled.{{#if reason}} Reason: {{reason}}{{/if}}',
  ],
  [
    'org_invite',
    'email',
    'You are invited to join {{organizationName}} on Happening',
    lines(
      'Hello,',
      '',
      'You have been invited to join {{organizationName}} on Happening as {{roleName role}}.',
      '',
      'Accept the invitation here:',
      '{{acceptUrl}}',
      '',
      'The invitation expires on {{when expiresAt}}. If you did not expect it, you can ignore this email.',
      SIGNATURE,
    ),
  ],
  [
    'org_invite',
    'sms',
    'Invitation',
    'Happening: you are invited to join {{organizationName}} as {{roleName role}}: {{acceptUrl}}',
  ],
  [
    'org_invite',
    'push',
    'Invitation to {{organizationName}}',
    'You are invited to join {{organizationName}} as {{roleName role}}.',
  ],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [type, channel, subject, body] of DEFAULT_TEMPLATES) {
    await sql`
      INSERT INTO templates (type, channel, locale, version, subject, body)
      VALUES (${type}, ${channel}, 'en', 1, ${subject}, ${body})
      ON CONFLICT DO NOTHING`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM templates WHERE locale = 'en' AND version = 1`.execute(db);
}
