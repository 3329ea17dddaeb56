import { describe, expect, it } from 'vitest';
import { seatsShown } from './availability.model.ts';

describe('seatsShown', () => {
  it('shows every seat free and no waitlist before booking reports', () => {
    expect(seatsShown(50, undefined)).toEqual({ availableSlots: 50, waitlistLength: 0 });
  });

  it('shows booking figures for the current capacity', () => {
    const figures = { totalSlots: 50, availableSlots: 7, confirmedSeats: 43, waitlistLength: 3 };
    expect(seatsShown(50, figures)).toEqual({ availableSlots: 7, waitlistLength: 3 });
  });

  it('derives free seats from the confirmed ones after a capacity change', () => {
    const figures = { totalSlots: 50, availableSlots: 7, confirmedSeats: 43, waitlistLength: 3 };
    expect(seatsShown(60, figures)).toEqual({ availableSlots: 17, waitlistLength: 3 });
    expect(seatsShown(40, figures)).toEqual({ availableSlots: 0, waitlistLength: 3 });
  });

  it('shows a finished event’s waitlist closed, whatever was last reported', () => {
    const figures = {
      totalSlots: 10,
      availableSlots: 0,
      confirmedSeats: 10,
      waitlistLength: 3,
    };
    expect(seatsShown(10, figures, true)).toEqual({ availableSlots: 0, waitlistLength: 0 });
    expect(seatsShown(10, figures)).toEqual({ availableSlots: 0, waitlistLength: 3 });
  });

  it('shows no seat free at a finished event, reported on or not, whatever the capacity', () => {
    expect(seatsShown(100, undefined, true)).toEqual({ availableSlots: 0, waitlistLength: 0 });
    // Booking closes a cancelled draft it never opened with a capacity of 0.
    const closed = { totalSlots: 0, availableSlots: 0, confirmedSeats: 0, waitlistLength: 0 };
    expect(seatsShown(100, closed, true)).toEqual({ availableSlots: 0, waitlistLength: 0 });
  });
});
