import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@happening/contracts';
import { eventually } from '@happening/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverNotification } from '../src/modules/delivery/delivery.worker.ts';
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

// Longer than a test: a refused notice waits in its retry queue until the test delivers it
// itself, after what overtakes it was mailed, however slowly that mail goes out.
const RETRY_DELAYS_MS = [60_000];

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
 * Accepts the mails of `subjectPart` again (once what overtook them is mailed), delivers the
 * notification of `source` as its waiting retry would, and answers the outcome and the settled row.
 */
async function retried(source: EventEnvelope, subjectPart: string) {
  h.sink.acceptSubject(subjectPart);
  const [waiting] = await h.notificationsOf(source.id);
  expect(waiting).toMatchObject({ status: 'pending', attempts: 1 });
  const deps = {
    db: h.db,
    adapters: h.adapters,
    sealedBox: h.sealedBox,
    logger: pino({ level: 'silent' }),
    maxAttempts: RETRY_DELAYS_MS.length + 1,
  };
  const outcome = await deliverNotification(deps, waiting!.id, { isLast: false });
  return { outcome, row: await settled(source) };
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
    const { outcome, row: skipped } = await retried(confirmation, 'Booking confirmed');
    expect(outcome).toBe('skipped');
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
    const { outcome, row: skipped } = await retried(confirmation, 'Booking confirmed');
    expect(outcome).toBe('skipped');
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
    const { outcome, row: skipped } = await retried(confirmation, 'Booking confirmed');
    expect(outcome).toBe('skipped');
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
    const { outcome, row: skipped } = await retried(onTheList, 'You are on the waitlist');
    expect(outcome).toBe('skipped');
    expect(skipped.status).toBe('skipped');

    expect(skipped.last_error).toBe(OVERTAKEN.newerBookingNotice);
    expect(subjectsTo(di)).toEqual(['Good news: your seats for Popular Talk are confirmed']);
  });

  it('does not tell a person they wait once they were promoted, though the promotion’s notice failed too', async () => {
    const eve = await h.registered('Eve');
    const facts = bookingFacts({ userId: eve.sub, eventName: 'Crowded Talk' });
    const onTheList = waitlisted(facts, 1, 1);
    h.sink.refuseSubject('You are on the waitlist', 451);
    h.sink.refuseSubject('Good news', 451);
    await h.publish(onTheList);
    await failedOnce(onTheList);
    const promotion = promoted(facts, [4], 2);
    await h.publish(promotion);
    await failedOnce(promotion);

    const { outcome, row: skipped } = await retried(onTheList, 'You are on the waitlist');
    expect(outcome).toBe('skipped');
    expect(skipped.last_error).toBe(OVERTAKEN.bookingChanged);
    expect(subjectsTo(eve)).toEqual([]);
  });

  it('does not tell a person of an update once they cancelled their booking', async () => {
    const fay = await h.registered('Fay');
    const published = { ...eventSnapshot(randomUUID(), randomUUID()), timezone: 'UTC', version: 1 };
    const facts = bookingFacts({
      userId: fay.sub,
      eventId: published.eventId,
      orgId: published.orgId,
      eventName: published.name,
      eventStartsAt: published.startsAt,
      eventVersion: published.version,
    });
    await h.publish(confirmed(facts));
    await h.mailTo(fay.email, 'Booking confirmed');

    h.sink.refuseSubject('Event updated', 451);
    const { update } = eventChange(published, { venue: 'Annex' });
    await h.publish(update);
    await failedOnce(update);
    await h.publish(cancelled(facts, 'by_owner', 2));
    await h.mailTo(fay.email, 'Booking cancelled');

    const { outcome, row: skipped } = await retried(update, 'Event updated');
    expect(outcome).toBe('skipped');
    expect(skipped.last_error).toBe(OVERTAKEN.noLongerHolder);
    expect(subjectsTo(fay)).toEqual([
      'Booking confirmed: Rust Meetup',
      'Booking cancelled: Rust Meetup',
    ]);
  });

  it('still sends a retried update once an older update, handled after it, was mailed', async () => {
    const gus = await h.registered('Gus');
    const published = { ...eventSnapshot(randomUUID(), randomUUID()), timezone: 'UTC', version: 1 };
    await h.publish(
      confirmed(
        bookingFacts({
          userId: gus.sub,
          eventId: published.eventId,
          orgId: published.orgId,
          eventName: published.name,
          eventStartsAt: published.startsAt,
          eventVersion: published.version,
        }),
      ),
    );
    await h.mailTo(gus.email, 'Booking confirmed');
    const moved = eventChange(published, { venue: 'Hall C' });
    const later = eventChange(moved.after, { startsAt: '2026-03-10T20:00:00.000Z' });

    // The newer update (version 3, the time) is handled first and its mail refused once; the
    // older one (version 2, the venue) is handled after it and mailed, told with version 3's
    // details: it tells nothing newer than the refused notice, which must still go out.
    h.sink.refuseSubject('Event updated', 451);
    await h.publish(later.update);
    await failedOnce(later.update);
    h.sink.acceptSubject('Event updated');
    await h.publish(moved.update);
    await h.mailTo(gus.email, 'Event updated');

    const { outcome, row } = await retried(later.update, 'Event updated');
    expect(outcome).toBe('sent');
    expect(row.status).toBe('sent');
    const mails = h.sink.mailsTo(gus.email).map((m) => m.text);
    expect(mails).toHaveLength(3);
    expect(mails[1]).toContain('- Venue: Hall B → Hall C');
    expect(mails[2]).toContain('- Start:');
  });

  it('still sends a retried notice nothing overtook, and both notices in order', async () => {
    const ed = await h.registered('Ed');
    const facts = bookingFacts({ userId: ed.sub, eventName: 'Quiet Evening' });
    const confirmation = confirmed(facts);
    h.sink.refuseSubject('Booking confirmed', 451);
    await h.publish(confirmation);
    await failedOnce(confirmation);
    const retry = await retried(confirmation, 'Booking confirmed');
    expect(retry.outcome).toBe('sent');
    expect(retry.row.status).toBe('sent');

    await h.publish(cancelled(facts, 'by_owner', 2));
    await h.mailTo(ed.email, 'Booking cancelled');
    expect(subjectsTo(ed)).toEqual([
      'Booking confirmed: Quiet Evening',
      'Booking cancelled: Quiet Evening',
    ]);
  });
});
