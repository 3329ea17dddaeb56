import { describe, expect, it } from 'vitest';
import { type AuditInput, auditFlashSale } from '../bench/flash-sale.audit.ts';

/** Two seats: a (2 seats) confirmed, b waiting #1 (1 seat), c waiting #2 (2 seats). */
function clean(): AuditInput {
  return {
    totalSlots: 2,
    policy: 'fifo',
    bookings: [
      { id: 'a', status: 'confirmed', seats: 2, waitingNumber: null },
      { id: 'b', status: 'waiting', seats: 1, waitingNumber: 1 },
      { id: 'c', status: 'waiting', seats: 2, waitingNumber: 2 },
    ],
    created: [
      { bookingId: 'a', status: 'confirmed', acceptedSeq: 1, waitingNumber: null },
      { bookingId: 'b', status: 'waiting', acceptedSeq: 2, waitingNumber: 1 },
      { bookingId: 'c', status: 'waiting', acceptedSeq: 3, waitingNumber: 2 },
    ],
    promoted: [],
    cancelled: [],
    bookedSeats: [1, 2],
    redis: { freeSeats: [], slots: 0, waitlist: ['b', 'c'] },
    acknowledged: { booked: ['a', 'b', 'c'], cancelled: [] },
    projections: { live: ['x', 'y'], rebuilt: ['y', 'x'] },
  };
}

const zero = {
  oversoldSeats: 0,
  seatsHeldTwice: 0,
  fcfsViolations: 0,
  acknowledgedMissing: 0,
  projectionMismatch: 0,
  redisMismatch: 0,
};

describe('flash-sale audit', () => {
  it('finds nothing wrong in a consistent run', () => {
    expect(auditFlashSale(clean())).toEqual(zero);
  });

  it('counts a seat sold twice and seats beyond capacity', () => {
    const input = { ...clean(), bookedSeats: [1, 2, 2] };
    expect(auditFlashSale(input)).toMatchObject({ oversoldSeats: 1, seatsHeldTwice: 1 });
  });

  it('counts waiting numbers out of acceptance order and a newcomer confirmed past a waiter', () => {
    const input = clean();
    input.created[1] = { ...input.created[1]!, acceptedSeq: 4 };
    input.created.push({
      bookingId: 'd',
      status: 'confirmed',
      acceptedSeq: 5,
      waitingNumber: null,
    });
    // b (#1) accepted after c (#2): one inversion; d confirmed while b and c waited: one overtake
    expect(auditFlashSale(input).fcfsViolations).toBe(2);
  });

  it('counts a fifo promotion that skipped the head, and a head left waiting that fits', () => {
    const skipped = clean();
    skipped.promoted = ['c'];
    skipped.bookings[2] = { ...skipped.bookings[2]!, status: 'confirmed' };
    expect(auditFlashSale(skipped).fcfsViolations).toBeGreaterThanOrEqual(1);

    const missed = {
      ...clean(),
      bookedSeats: [2],
      redis: { freeSeats: [1], slots: 1, waitlist: ['b', 'c'] },
    };
    expect(auditFlashSale(missed).fcfsViolations).toBe(1);
  });

  it('counts acknowledgements Postgres lacks, projection drift and Redis drift', () => {
    const input = {
      ...clean(),
      acknowledged: { booked: ['a', 'zz'], cancelled: ['a'] },
      projections: { live: ['x'], rebuilt: ['y'] },
      redis: { freeSeats: [], slots: 1, waitlist: ['c', 'b'] },
    };
    expect(auditFlashSale(input)).toMatchObject({
      acknowledgedMissing: 2,
      projectionMismatch: 2,
      redisMismatch: 3,
    });
  });
});
