import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildEvent } from '../envelope-codec.ts';
import {
  bookingCancelledV1,
  bookingCancelledV2,
  type CancellationReason,
} from './booking.events.ts';

const cancellation = (reason: CancellationReason) => ({
  bookingId: randomUUID(),
  eventId: randomUUID(),
  orgId: randomUUID(),
  userId: 'user-1',
  seats: 2,
  eventName: 'Rust Meetup',
  eventStartsAt: '2026-12-01T19:00:00.000Z',
  previousStatus: 'waiting' as const,
  seatNumbers: [],
  reason,
  cancelledBy: 'org-1',
});

describe('booking.booking_cancelled', () => {
  it('says event_completed only from version 2 on; version 1 readers refuse it', () => {
    expect(bookingCancelledV1.safeParse(cancellation('event_completed')).success).toBe(false);
    expect(bookingCancelledV2.safeParse(cancellation('event_completed')).success).toBe(true);
    expect(bookingCancelledV2.safeParse(cancellation('by_owner')).success).toBe(true);
  });

  it('is published as version 2', () => {
    const built = buildEvent('booking.booking_cancelled', cancellation('event_completed'), {
      source: 'booking',
      aggregate: { type: 'booking', id: randomUUID(), version: 3 },
      correlationId: randomUUID(),
    });
    expect(built.version).toBe(2);
  });
});
