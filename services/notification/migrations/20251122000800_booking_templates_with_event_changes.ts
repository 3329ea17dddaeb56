import { type Kysely, sql } from 'kysely';

/**
 * Version 2 of the confirmation and waitlist emails: when the booking service decided a booking
 * on event details since changed, the notice shows the current ones and `changes` lists what
 * changed (its person may have chosen the old time). Without `changes` they render as version 1.
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

export const TEMPLATES_WITH_EVENT_CHANGES: Array<
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
      CHANGES,
      '',
      'See you there!',
      SIGNATURE,
    ),
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
      CHANGES,
      '',
      'Waiting bookings are served first come, first served. We will write to you as soon as seats free up for you.',
      SIGNATURE,
    ),
  ],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [type, channel, subject, body] of TEMPLATES_WITH_EVENT_CHANGES) {
    await sql`
      INSERT INTO templates (type, channel, locale, version, subject, body)
      VALUES (${type}, ${channel}, 'en', 2, ${subject}, ${body})
      ON CONFLICT DO NOTHING`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [type, channel] of TEMPLATES_WITH_EVENT_CHANGES) {
    await sql`
      DELETE FROM templates
      WHERE type = ${type} AND channel = ${channel} AND locale = 'en' AND version = 2`.execute(db);
  }
}
