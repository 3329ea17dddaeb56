import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@happening/contracts';
import { eventually } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OVERTAKEN } from '../src/modules/delivery/overtaken.policy.ts';
import {
  bookingFacts,
  cancelled,
  confirmed,
  eventCancelled,
  eventChange,
  eventSnapshot,
  promoted,
  waitlisted,
} from './events.fixture.ts';
import { type Harness, startHarness, type TestUser } from './harness.ts';

// Six attempts over about fifteen seconds: a failing notice is still being retried when what
// overtakes it has been sent.
const RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000];

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ retryDelaysMs: RETRY_DELAYS_MS });
});

afterAll(async () => {
  await h?.stop();
});

/** The notification of a source event once it is no longer pending. */
function settled(source: EventEnvelope) {
  return eventually(
    async () => {
      const [row] = await h.notificationsOf(source.id);
      return row && row.status !== 'pending' && row;
    },
    { what: `notification of ${source.type} settled` },
  );
}

/** The source event's notice has failed at least once and waits for its retry. */
async function failedOnce(source: EventEnvelope): Promise<void> {
  await eventually(
    async () => {
      const [row] = await h.notificationsOf(source.id);
      return row?.status === 'pending' && row.attempts >= 1;
    },
    { what: `${source.type} failed once` },
  );
}

/**
 * Accepts the mails of `subjectPart` again (once what overtook them is mailed), and answers the
 * notification of `source` once its retry settled it.
 */
async function retried(source: EventEnvelope, subjectPart: string) {
  h.sink.acceptSubject(subjectPart);
  return settled(source);
}

const subjectsTo = (person: TestUser) => h.sink.mailsTo(person.email).map((m) => m.subject);

describe('a notice retried after what overtook it was sent', () => {
  it('does not confirm a booking after its event’s cancellation', async () => {
    const ada = await h.registered('Ada');
    const facts = bookingFacts({ userId: ada.sub });
    const confirmation = confirmed(facts);
    // An SMTP hiccup for the confirmation alone.
    h.sink.refuseSubject('Booking confirmed', 451);
    await h.publish(confirmation);
    await failedOnce(confirmation);

    await h.publish(eventCancelled(facts.eventId, facts.orgId));
    await h.mailTo(ada.email, 'Event cancelled');
    const skipped = await retried(confirmation, 'Booking confirmed');
    expect(skipped.status).toBe('skipped');

    expect(skipped.last_error).toBe(OVERTAKEN.eventCancelled);
    expect(subjectsTo(ada)).toEqual(['Event cancelled: Rust Meetup']);
  });

  it('does not confirm a booking after its owner’s cancellation was mailed', async () => {
    const bo = await h.registered('Bo');
    const facts = bookingFacts({ userId: bo.sub, eventName: 'Changed Plans' });
    const confirmation = confirmed(facts);
    h.sink.refuseSubject('Booking confirmed', 451);
    await h.publish(confirmation);
    await failedOnce(confirmation);

    await h.publish(cancelled(facts, 'by_owner', 2));
    await h.mailTo(bo.email, 'Booking cancelled');
    const skipped = await retried(confirmation, 'Booking confirmed');
    expect(skipped.status).toBe('skipped');

    expect(skipped.last_error).toBe(OVERTAKEN.bookingCancelled);
    expect(subjectsTo(bo)).toEqual(['Booking cancelled: Changed Plans']);
  });

  it('does not confirm a booking with the old time after the update of that time was mailed', async () => {
    const cy = await h.registered('Cy');
    const published = { ...eventSnapshot(randomUUID(), randomUUID()), timezone: 'UTC', version: 1 };
    const facts = bookingFacts({
      userId: cy.sub,
      eventId: published.eventId,
      orgId: published.orgId,
      eventName: published.name,
      eventStartsAt: published.startsAt,
      eventVersion: published.version,
    });
    const confirmation = confirmed(facts);
    h.sink.refuseSubject('Booking confirmed', 451);
    await h.publish(confirmation);
    await failedOnce(confirmation);

    const { update } = eventChange(published, { startsAt: '2026-03-10T19:00:00.000Z' });
    await h.publish(update);
    const updateMail = await h.mailTo(cy.email, 'Event updated');
    expect(updateMail.text).toContain('19:00');
    const skipped = await retried(confirmation, 'Booking confirmed');
    expect(skipped.status).toBe('skipped');

    expect(skipped.last_error).toBe(OVERTAKEN.newerUpdate);
    expect(subjectsTo(cy)).toEqual(['Event updated: Rust Meetup']);
  });

  it('does not tell a person they wait after telling them their seats are confirmed', async () => {
    const di = await h.registered('Di');
    const facts = bookingFacts({ userId: di.sub, eventName: 'Popular Talk' });
    const onTheList = waitlisted(facts, 1, 1);
    h.sink.refuseSubject('You are on the waitlist', 451);
    await h.publish(onTheList);
    await failedOnce(onTheList);

    await h.publish(promoted(facts, [4], 2));
    await h.mailTo(di.email, 'Good news');
    const skipped = await retried(onTheList, 'You are on the waitlist');
    expect(skipped.status).toBe('skipped');

    expect(skipped.last_error).toBe(OVERTAKEN.newerBookingNotice);
    expect(subjectsTo(di)).toEqual(['Good news: your seats for Popular Talk are confirmed']);
  });

  it('still sends a retried notice nothing overtook, and both notices in order', async () => {
    const ed = await h.registered('Ed');
    const facts = bookingFacts({ userId: ed.sub, eventName: 'Quiet Evening' });
    const confirmation = confirmed(facts);
    h.sink.refuseSubject('Booking confirmed', 451);
    await h.publish(confirmation);
    await failedOnce(confirmation);
    expect((await retried(confirmation, 'Booking confirmed')).status).toBe('sent');

    await h.publish(cancelled(facts, 'by_owner', 2));
    await h.mailTo(ed.email, 'Booking cancelled');
    expect(subjectsTo(ed)).toEqual([
      'Booking confirmed: Quiet Evening',
      'Booking cancelled: Quiet Evening',
    ]);
  });
});
