import { describe, expect, it } from 'vitest';
import {
  OVERTAKEN,
  overtakenBy,
  type PendingNotice,
  type SentNotice,
  type SinceWritten,
} from './overtaken.policy.ts';

const confirmation: PendingNotice = {
  type: 'booking_confirmed',
  eventId: 'e1',
  bookingId: 'b1',
  bookingVersion: 1,
  eventVersion: null,
};
const nothing: SinceWritten = {
  bookingCancelled: false,
  bookingVersion: 1,
  eventCancelled: false,
  holdsBooking: true,
  sent: [],
};

const sent = (overrides: Partial<SentNotice>): SentNotice => ({
  type: 'booking_confirmed',
  eventId: 'e1',
  bookingId: 'b1',
  bookingVersion: 1,
  eventVersion: null,
  writtenAfter: true,
  ...overrides,
});
const update = (writtenAfter: boolean) =>
  sent({ type: 'event_updated', bookingId: null, bookingVersion: null, writtenAfter });

describe('overtakenBy', () => {
  it('sends a notice nothing overtook', () => {
    expect(overtakenBy(confirmation, nothing)).toBeUndefined();
    expect(overtakenBy(confirmation, { ...nothing, bookingVersion: null })).toBeUndefined();
  });

  it('gives up a booking notice whose booking is at a newer version, its notice sent or not', () => {
    const onTheList: PendingNotice = { ...confirmation, type: 'booking_waitlisted' };
    expect(overtakenBy(onTheList, { ...nothing, bookingVersion: 2 })).toBe(
      OVERTAKEN.bookingChanged,
    );
    // Notices written before versions were recorded are not judged by them.
    expect(
      overtakenBy({ ...onTheList, bookingVersion: null }, { ...nothing, bookingVersion: 2 }),
    ).toBeUndefined();
  });

  it('skips a booking’s news once the booking or its event was cancelled', () => {
    expect(overtakenBy(confirmation, { ...nothing, bookingCancelled: true })).toBe(
      OVERTAKEN.bookingCancelled,
    );
    expect(overtakenBy(confirmation, { ...nothing, eventCancelled: true })).toBe(
      OVERTAKEN.eventCancelled,
    );
    const waitlisted = { ...confirmation, type: 'booking_waitlisted' } as const;
    expect(overtakenBy(waitlisted, { ...nothing, eventCancelled: true })).toBe(
      OVERTAKEN.eventCancelled,
    );
  });

  it('skips an update of a cancelled event, never a cancellation’s own notice', () => {
    const updated: PendingNotice = {
      type: 'event_updated',
      eventId: 'e1',
      bookingId: null,
      bookingVersion: null,
      eventVersion: null,
    };
    expect(overtakenBy(updated, { ...nothing, eventCancelled: true })).toBe(
      OVERTAKEN.eventCancelled,
    );
    const cancelledByOwner = {
      ...confirmation,
      type: 'booking_cancelled',
      bookingVersion: 2,
    } as const;
    const eventCancelled: PendingNotice = { ...updated, type: 'event_cancelled' };
    const everything: SinceWritten = {
      bookingCancelled: true,
      bookingVersion: 3,
      eventCancelled: true,
      holdsBooking: false,
      sent: [update(true), sent({ bookingVersion: 3 })],
    };
    expect(overtakenBy(cancelledByOwner, everything)).toBeUndefined();
    expect(overtakenBy(eventCancelled, everything)).toBeUndefined();
  });

  it('compares the event versions told when both are known, else which was written later', () => {
    const updated: PendingNotice = {
      type: 'event_updated',
      eventId: 'e1',
      bookingId: null,
      bookingVersion: null,
      eventVersion: 3,
    };
    const told = (eventVersion: number | null, writtenAfter: boolean) => ({
      ...nothing,
      sent: [{ ...update(writtenAfter), eventVersion }],
    });
    // Written later but telling no newer details (an older update handled late): not overtaken.
    expect(overtakenBy(updated, told(3, true))).toBeUndefined();
    expect(overtakenBy(updated, told(4, false))).toBe(OVERTAKEN.newerUpdate);
    expect(overtakenBy(updated, told(null, true))).toBe(OVERTAKEN.newerUpdate);
    expect(overtakenBy({ ...updated, eventVersion: null }, told(2, false))).toBeUndefined();
  });

  it('skips an update once its person holds no booking for the event, and only an update', () => {
    const updated: PendingNotice = {
      type: 'event_updated',
      eventId: 'e1',
      bookingId: null,
      bookingVersion: null,
      eventVersion: null,
    };
    expect(overtakenBy(updated, { ...nothing, holdsBooking: false })).toBe(
      OVERTAKEN.noLongerHolder,
    );
    expect(overtakenBy(updated, nothing)).toBeUndefined();
    expect(overtakenBy(confirmation, { ...nothing, holdsBooking: false })).toBeUndefined();
  });

  it('skips a booking notice once one of a newer booking version was sent', () => {
    const waitlisted = { ...confirmation, type: 'booking_waitlisted' } as const;
    const promotedSent = sent({ type: 'waitlist_promoted', bookingVersion: 2 });
    expect(overtakenBy(waitlisted, { ...nothing, sent: [promotedSent] })).toBe(
      OVERTAKEN.newerBookingNotice,
    );
    // The same version, an older one, another booking, or one of unknown version: not newer.
    const notNewer = [
      sent({ bookingVersion: 1 }),
      sent({ bookingId: 'b2', bookingVersion: 5 }),
      sent({ bookingVersion: null }),
    ];
    expect(overtakenBy(waitlisted, { ...nothing, sent: notNewer })).toBeUndefined();
    const promoted = { ...confirmation, type: 'waitlist_promoted', bookingVersion: 2 } as const;
    expect(
      overtakenBy(promoted, { ...nothing, sent: [sent({ type: 'booking_waitlisted' })] }),
    ).toBeUndefined();
    // A notice written before the column knows no version: only the other rules apply.
    expect(
      overtakenBy({ ...waitlisted, bookingVersion: null }, { ...nothing, sent: [promotedSent] }),
    ).toBeUndefined();
  });

  it('skips a notice telling the event’s details once an update written after it was sent', () => {
    expect(overtakenBy(confirmation, { ...nothing, sent: [update(true)] })).toBe(
      OVERTAKEN.newerUpdate,
    );
    // An update written before it: the notice was told with the details that update left.
    expect(overtakenBy(confirmation, { ...nothing, sent: [update(false)] })).toBeUndefined();
    const olderUpdate: PendingNotice = {
      type: 'event_updated',
      eventId: 'e1',
      bookingId: null,
      bookingVersion: null,
      eventVersion: null,
    };
    expect(overtakenBy(olderUpdate, { ...nothing, sent: [update(true)] })).toBe(
      OVERTAKEN.newerUpdate,
    );
    expect(
      overtakenBy(olderUpdate, { ...nothing, sent: [{ ...update(true), eventId: 'e2' }] }),
    ).toBeUndefined();
  });

  it('never skips an invite', () => {
    const invite: PendingNotice = {
      type: 'org_invite',
      eventId: null,
      bookingId: null,
      bookingVersion: null,
      eventVersion: null,
    };
    expect(
      overtakenBy(invite, {
        bookingCancelled: true,
        bookingVersion: 3,
        eventCancelled: true,
        holdsBooking: false,
        sent: [update(true)],
      }),
    ).toBeUndefined();
  });
});
