import { describe, expect, it } from 'vitest';
import { checkBookable, mayKnowEvent, maySeeBooking } from './booking.policy.ts';

describe('mayKnowEvent', () => {
  it('shows a public event to anyone and a members-only one to members only', () => {
    expect(mayKnowEvent({ status: 'upcoming', visibility: 'public' }, false)).toBe(true);
    expect(mayKnowEvent({ status: 'upcoming', visibility: 'members' }, false)).toBe(false);
    expect(mayKnowEvent({ status: 'cancelled', visibility: 'members' }, true)).toBe(true);
  });

  it('shows a draft to nobody, members included', () => {
    expect(mayKnowEvent({ status: 'draft', visibility: 'public' }, true)).toBe(false);
  });
});

describe('checkBookable', () => {
  const event = {
    eventId: 'e',
    orgId: 'o',
    name: 'Small room',
    startsAt: new Date('2030-01-01T18:00:00Z'),
    totalSlots: 3,
    maxSeatsPerBooking: 10,
    waitlistPolicy: 'fifo' as const,
    status: 'upcoming' as const,
  };
  const now = new Date('2029-12-01T00:00:00Z');

  it('caps seats per booking at the event size when its limit is larger', () => {
    expect(() => checkBookable(event, { seats: 3 }, now)).not.toThrow();
    expect(() => checkBookable(event, { seats: 4 }, now)).toThrow(
      expect.objectContaining({ code: 'BOOKING_TOO_MANY_SEATS', extra: { maxSeatsPerBooking: 3 } }),
    );
  });

  it('caps at the limit when it is the smaller', () => {
    const limited = { ...event, totalSlots: 100, maxSeatsPerBooking: 4 };
    expect(() => checkBookable(limited, { seats: 5 }, now)).toThrow(
      expect.objectContaining({ code: 'BOOKING_TOO_MANY_SEATS' }),
    );
  });
});

describe('maySeeBooking', () => {
  it('shows a booking to its owner and to its organization staff, and to nobody else', () => {
    expect(maySeeBooking('u', 'u', undefined)).toBe(true);
    expect(maySeeBooking('s', 'u', 'organizer')).toBe(true);
    expect(maySeeBooking('s', 'u', 'orgAdmin')).toBe(true);
    expect(maySeeBooking('s', 'u', 'user')).toBe(false);
    expect(maySeeBooking('s', 'u', undefined)).toBe(false);
  });
});
