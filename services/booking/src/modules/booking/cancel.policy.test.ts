import type { Role } from '@happening/contracts';
import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../inventory/event-inventory.repository.ts';
import { fold } from './booking.decider.ts';
import type { BookingEvent, CancellationReason } from './booking.events.ts';
import { cancellationReason, decideCancellation } from './cancel.policy.ts';

const now = new Date('2030-01-01T10:00:00Z');
const before = { startsAt: new Date('2030-01-02T10:00:00Z'), status: 'upcoming' as const };
const started = { startsAt: new Date('2030-01-01T09:00:00Z'), status: 'ongoing' as const };
const completed = { startsAt: new Date('2029-12-01T09:00:00Z'), status: 'completed' as const };

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe('cancellation policy', () => {
  it('lets the owner cancel before the start', () => {
    expect(
      cancellationReason({
        callerId: 'u',
        callerRole: undefined,
        ownerId: 'u',
        event: before,
        now,
      }),
    ).toBe('by_owner');
  });
  it('refuses the owner once the event started', () => {
    expect(
      code(() =>
        cancellationReason({
          callerId: 'u',
          callerRole: 'user',
          ownerId: 'u',
          event: started,
          now,
        }),
      ),
    ).toBe('BOOKING_NOT_CANCELLABLE');
  });
  it('lets organizers and orgAdmins cancel until completion', () => {
    for (const role of ['organizer', 'orgAdmin'] as const) {
      expect(
        cancellationReason({ callerId: 'o', callerRole: role, ownerId: 'u', event: started, now }),
      ).toBe('by_organizer');
      expect(
        code(() =>
          cancellationReason({
            callerId: 'o',
            callerRole: role,
            ownerId: 'u',
            event: completed,
            now,
          }),
        ),
      ).toBe('BOOKING_NOT_CANCELLABLE');
    }
  });
  it('hides the booking from plain members and strangers', () => {
    expect(
      code(() =>
        cancellationReason({ callerId: 'x', callerRole: 'user', ownerId: 'u', event: before, now }),
      ),
    ).toBe('BOOKING_NOT_FOUND');
    expect(
      code(() =>
        cancellationReason({
          callerId: 'x',
          callerRole: undefined,
          ownerId: 'u',
          event: before,
          now,
        }),
      ),
    ).toBe('BOOKING_NOT_FOUND');
  });
});

describe('deciding a cancellation', () => {
  const created: BookingEvent = {
    type: 'BookingCreated',
    data: {
      bookingId: '00000000-0000-4000-8000-000000000001',
      eventId: '00000000-0000-4000-8000-000000000002',
      orgId: '00000000-0000-4000-8000-000000000003',
      userId: 'u',
      seats: 1,
      status: 'confirmed',
      seatNumbers: [4],
      waitingNumber: null,
      acceptedSeq: 1,
    },
  };
  const cancelledBy = (reason: CancellationReason, by: string): BookingEvent => ({
    type: 'BookingCancelled',
    data: { reason, cancelledBy: by, previousStatus: 'confirmed', releasedSeats: [4] },
  });
  const event = (facts: Pick<EventRecord, 'startsAt' | 'status'>): EventRecord => ({
    eventId: created.data.eventId,
    orgId: created.data.orgId,
    name: 'Flash sale',
    totalSlots: 10,
    maxSeatsPerBooking: 4,
    waitlistPolicy: 'fifo',
    visibility: 'public',
    catalogVersion: 2,
    redisGeneration: null,
    lastRelease: null,
    endsAt: new Date(facts.startsAt.getTime() + 3 * 3_600_000),
    ...facts,
  });

  /** given(stream, event) → when(caller cancels) → then(events) or a refusal. */
  const given = (stream: BookingEvent[], facts: Pick<EventRecord, 'startsAt' | 'status'>) => ({
    when: (callerId: string, callerRole?: Role) => {
      const decided = () =>
        decideCancellation(
          { callerId },
          { ownerId: 'u', callerRole, state: fold(stream), event: event(facts) },
          now,
        );
      return {
        thenEvents: (expected: BookingEvent[]) => expect(decided()?.events ?? []).toEqual(expected),
        thenRefuses: (expected: string) => expect(code(decided)).toBe(expected),
      };
    },
  });

  it('cancels an active booking by the rules of the policy', () => {
    given([created], before)
      .when('u')
      .thenEvents([cancelledBy('by_owner', 'u')]);
    given([created], started)
      .when('o', 'organizer')
      .thenEvents([cancelledBy('by_organizer', 'o')]);
    given([created], started).when('u').thenRefuses('BOOKING_NOT_CANCELLABLE');
  });

  it('answers a cancelled booking with nothing to do, whatever the event has become since', () => {
    // The owner's retry once the event started (its first answer was lost).
    given([created, cancelledBy('by_owner', 'u')], started)
      .when('u')
      .thenEvents([]);
    // Cancelled with its event: the owner asks afterwards.
    const calledOff = { startsAt: before.startsAt, status: 'cancelled' as const };
    given([created, cancelledBy('event_cancelled', 'system')], calledOff)
      .when('u')
      .thenEvents([]);
    // Staff retry after completion.
    given([created, cancelledBy('by_organizer', 'o')], completed)
      .when('o', 'orgAdmin')
      .thenEvents([]);
  });

  it('still hides a cancelled booking from whoever may not see it', () => {
    const stream = [created, cancelledBy('by_owner', 'u')];
    given(stream, started).when('x').thenRefuses('BOOKING_NOT_FOUND');
    given(stream, completed).when('x', 'user').thenRefuses('BOOKING_NOT_FOUND');
  });
});
