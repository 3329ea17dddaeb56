import { type Kysely, sql } from 'kysely';

/**
 * Version 3 of the promotion email: it says plainly that the booking moved from the waitlist to
 * confirmed, and, like the confirmation and waitlist emails, lists what changed in the event when
 * the booking was decided on older details (`changes`, which the service already gave it; a
 * person who waited may have chosen the old time). Version 2 stays as it was, for the
 * notifications that name it.
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

export const PROMOTION_WITH_EVENT_CHANGES: Array<
  [type: string, channel: string, version: number, subject: string, body: string]
> = [
  [
    'waitlist_promoted',
    'email',
    3,
    'Good news: your seats for {{eventName}} are confirmed',
    lines(
      'Hello {{name}},',
      '',
      'Your booking for {{eventName}} has moved from the waitlist to confirmed: seats freed up for you.',
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
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [type, channel, version, subject, body] of PROMOTION_WITH_EVENT_CHANGES) {
    await sql`
      INSERT INTO templates (type, channel, locale, version, subject, body)
      VALUES (${type}, ${channel}, 'en', ${version}, ${subject}, ${body})
      ON CONFLICT DO NOTHING`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [type, channel, version] of PROMOTION_WITH_EVENT_CHANGES) {
    await sql`
      DELETE FROM templates
      WHERE type = ${type} AND channel = ${channel} AND locale = 'en' AND version = ${version}`.execute(
      db,
    );
  }
}
