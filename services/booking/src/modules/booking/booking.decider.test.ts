import { describe, expect, it } from 'vitest';
import { type BookingCommand, decide, fold } from './booking.decider.ts';
import type { BookingCreated, BookingEvent } from './booking.events.ts';

const facts = {
  bookingId: '00000000-0000-4000-8000-000000000001',
  eventId: '00000000-0000-4000-8000-000000000002',
  orgId: '00000000-0000-4000-8000-000000000003',
  userId: 'user-1',
  seats: 2,
};

const confirmed: BookingCreated = {
  type: 'BookingCreated',
  data: { ...facts, status: 'confirmed', seatNumbers: [1, 2], waitingNumber: null, acceptedSeq: 1 },
};
const waiting: BookingCreated = {
  type: 'BookingCreated',
  data: { ...facts, status: 'waiting', seatNumbers: [], waitingNumber: 7, acceptedSeq: 9 },
};
const cancel: BookingCommand = { type: 'CancelBooking', reason: 'by_owner', cancelledBy: 'user-1' };

/** given(events) → when(command) → thenEvents(events). */
function given(events: BookingEvent[]) {
  return {
    when: (command: BookingCommand) => ({
      thenEvents: (expected: BookingEvent[]) =>
        expect(decide(command, fold(events))).toEqual(expected),
      thenThrows: (code: string) =>
        expect(() => decide(command, fold(events))).toThrowError(
          expect.objectContaining({ code }) as unknown as Error,
        ),
    }),
  };
}

describe('booking decider', () => {
  it('creates a confirmed booking with the seats the inventory picked', () => {
    given([])
      .when({
        type: 'CreateBooking',
        ...facts,
        decision: { kind: 'confirmed', seatNumbers: [1, 2], acceptedSeq: 1 },
      })
      .thenEvents([confirmed]);
  });

  it('creates a waiting booking with its waiting number and no seats', () => {
    given([])
      .when({
        type: 'CreateBooking',
        ...facts,
        decision: { kind: 'waiting', waitingNumber: 7, acceptedSeq: 9 },
      })
      .thenEvents([waiting]);
  });

  it('refuses to create a booking twice', () => {
    given([confirmed])
      .when({
        type: 'CreateBooking',
        ...facts,
        decision: { kind: 'waiting', waitingNumber: 1, acceptedSeq: 2 },
      })
      .thenThrows('BOOKING_ALREADY_EXISTS');
  });

  it('refuses a confirmation whose seat count differs from the request', () => {
    given([])
      .when({
        type: 'CreateBooking',
        ...facts,
        decision: { kind: 'confirmed', seatNumbers: [1], acceptedSeq: 1 },
      })
      .thenThrows('BOOKING_SEATS_MISMATCH');
  });

  it('cancelling a confirmed booking releases its seats', () => {
    given([confirmed])
      .when(cancel)
      .thenEvents([
        {
          type: 'BookingCancelled',
          data: {
            reason: 'by_owner',
            cancelledBy: 'user-1',
            previousStatus: 'confirmed',
            releasedSeats: [1, 2],
          },
        },
      ]);
  });

  it('cancelling a waiting booking releases nothing', () => {
    given([waiting])
      .when(cancel)
      .thenEvents([
        {
          type: 'BookingCancelled',
          data: {
            reason: 'by_owner',
            cancelledBy: 'user-1',
            previousStatus: 'waiting',
            releasedSeats: [],
          },
        },
      ]);
  });

  it('cancelling twice is harmless and frees nothing the second time', () => {
    const first = decide(cancel, fold([confirmed]));
    given([confirmed, ...first])
      .when(cancel)
      .thenEvents([]);
  });

  it('cancelling an unknown booking is not found', () => {
    given([]).when(cancel).thenThrows('BOOKING_NOT_FOUND');
  });

  it('promotes a waiting booking with all its seats', () => {
    given([waiting])
      .when({ type: 'PromoteBooking', seatNumbers: [4, 5] })
      .thenEvents([{ type: 'BookingPromoted', data: { seatNumbers: [4, 5] } }]);
  });

  it('never splits a waiting booking', () => {
    given([waiting])
      .when({ type: 'PromoteBooking', seatNumbers: [4] })
      .thenThrows('BOOKING_SEATS_MISMATCH');
  });

  it('promotes only waiting bookings', () => {
    given([confirmed])
      .when({ type: 'PromoteBooking', seatNumbers: [4, 5] })
      .thenThrows('BOOKING_NOT_WAITING');
    const cancelled = decide(cancel, fold([waiting]));
    given([waiting, ...cancelled])
      .when({ type: 'PromoteBooking', seatNumbers: [4, 5] })
      .thenThrows('BOOKING_NOT_WAITING');
  });

  it('a promoted booking is confirmed with its seats and keeps its waiting number', () => {
    const state = fold([waiting, { type: 'BookingPromoted', data: { seatNumbers: [4, 5] } }]);
    expect(state).toMatchObject({
      status: 'confirmed',
      seatNumbers: [4, 5],
      waitingNumber: 7,
      version: 2,
    });
  });
});
