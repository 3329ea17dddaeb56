import { describe, expect, it } from 'vitest';
import { cancellationReason } from './cancel.policy.ts';

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
