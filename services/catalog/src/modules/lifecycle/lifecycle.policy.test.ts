import { EVENT_STATUSES } from '@happening/contracts';
import { describe, expect, it } from 'vitest';
import { canTransition, isFinished, scheduledTransition, statusAt } from './lifecycle.policy.ts';

const at = (iso: string) => new Date(iso);

describe('canTransition', () => {
  it('allows publishing, the clock and cancelling', () => {
    expect(canTransition('draft', 'upcoming')).toBe(true);
    expect(canTransition('upcoming', 'ongoing')).toBe(true);
    expect(canTransition('ongoing', 'completed')).toBe(true);
    for (const from of ['draft', 'upcoming', 'ongoing'] as const) {
      expect(canTransition(from, 'cancelled')).toBe(true);
    }
  });

  it('refuses skipping, going back and leaving a final status', () => {
    expect(canTransition('draft', 'ongoing')).toBe(false);
    expect(canTransition('draft', 'completed')).toBe(false);
    expect(canTransition('upcoming', 'draft')).toBe(false);
    expect(canTransition('ongoing', 'upcoming')).toBe(false);
    for (const to of EVENT_STATUSES) {
      expect(canTransition('completed', to)).toBe(false);
      expect(canTransition('cancelled', to)).toBe(false);
    }
  });

  it('knows the final statuses', () => {
    expect(EVENT_STATUSES.filter(isFinished)).toEqual(['completed', 'cancelled']);
  });
});

describe('scheduledTransition', () => {
  const event = { startsAt: at('2030-01-01T10:00:00Z'), endsAt: at('2030-01-01T12:00:00Z') };

  it('starts an upcoming event at its start time, not before', () => {
    expect(scheduledTransition({ ...event, status: 'upcoming' }, at('2030-01-01T09:59:59Z'))).toBe(
      undefined,
    );
    expect(scheduledTransition({ ...event, status: 'upcoming' }, at('2030-01-01T10:00:00Z'))).toBe(
      'ongoing',
    );
  });

  it('completes an ongoing event at its end time', () => {
    expect(scheduledTransition({ ...event, status: 'ongoing' }, at('2030-01-01T11:00:00Z'))).toBe(
      undefined,
    );
    expect(scheduledTransition({ ...event, status: 'ongoing' }, at('2030-01-01T12:00:00Z'))).toBe(
      'completed',
    );
  });

  it('never moves drafts or finished events', () => {
    const late = at('2031-01-01T00:00:00Z');
    for (const status of ['draft', 'completed', 'cancelled'] as const) {
      expect(scheduledTransition({ ...event, status }, late)).toBe(undefined);
    }
  });
});

describe('statusAt', () => {
  const event = { startsAt: at('2030-01-01T10:00:00Z'), endsAt: at('2030-01-01T12:00:00Z') };

  it('is the stored status while nothing is due', () => {
    expect(statusAt({ ...event, status: 'upcoming' }, at('2030-01-01T09:00:00Z'))).toBe('upcoming');
    expect(statusAt({ ...event, status: 'ongoing' }, at('2030-01-01T11:00:00Z'))).toBe('ongoing');
  });

  it('runs every due step, so an upcoming event whose end passed is completed', () => {
    expect(statusAt({ ...event, status: 'upcoming' }, at('2030-01-01T11:00:00Z'))).toBe('ongoing');
    expect(statusAt({ ...event, status: 'upcoming' }, at('2030-01-01T12:00:00Z'))).toBe(
      'completed',
    );
    expect(statusAt({ ...event, status: 'ongoing' }, at('2030-01-01T12:00:00Z'))).toBe('completed');
  });

  it('never moves drafts or finished events', () => {
    const late = at('2031-01-01T00:00:00Z');
    for (const status of ['draft', 'completed', 'cancelled'] as const) {
      expect(statusAt({ ...event, status }, late)).toBe(status);
    }
  });
});
