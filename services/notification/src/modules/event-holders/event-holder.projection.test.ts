import { describe, expect, it } from 'vitest';
import {
  bookingFacts,
  cancelled,
  confirmed,
  eventCancelled,
  promoted,
  waitlisted,
} from '../../../test/events.fixture.ts';
import { holderChangeOf } from './event-holder.projection.ts';

describe('holderChangeOf', () => {
  const facts = bookingFacts();

  it('adds confirmed, waiting and promoted bookings with the booking version', () => {
    expect(holderChangeOf(confirmed(facts, [1], 1))).toMatchObject({
      bookingId: facts.bookingId,
      userId: facts.userId,
      status: 'confirmed',
      bookingVersion: 1,
    });
    expect(holderChangeOf(waitlisted(facts, 2, 1))?.status).toBe('waiting');
    expect(holderChangeOf(promoted(facts, [3], 2))).toMatchObject({
      status: 'confirmed',
      bookingVersion: 2,
    });
  });

  it('marks cancellations with their reason and ignores other events', () => {
    expect(holderChangeOf(cancelled(facts, 'event_cancelled', 3))).toMatchObject({
      status: 'cancelled',
      cancelReason: 'event_cancelled',
    });
    expect(holderChangeOf(eventCancelled(facts.eventId, facts.orgId))).toBeUndefined();
  });
});
