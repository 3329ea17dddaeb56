import { EVENT_STATUSES } from '@happening/contracts';
import { describe, expect, it } from 'vitest';
import type { EventStatus } from '../events/event.model.ts';
import {
  canTransition,
  isFinished,
  routesTo,
  type StatusRoute,
  scheduledTransition,
  statusAt,
} from './lifecycle.policy.ts';

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

describe('routesTo', () => {
  const startsAt = at('2030-01-01T10:00:00Z');
  const endsAt = at('2030-01-01T12:00:00Z');
  // Before, at and between the due times, and after both.
  const times = ['09:00', '10:00', '11:00', '12:00', '13:00'].map((t) => at(`2030-01-01T${t}:00Z`));
  const onRoute = (route: StatusRoute, event: { status: EventStatus }, now: Date) =>
    route.stored === event.status &&
    route.passed.every((due) => ({ startsAt, endsAt })[due] <= now) &&
    (route.pending === undefined || { startsAt, endsAt }[route.pending] > now);

  it('names the stored statuses and times that statusAt turns into each status', () => {
    expect(routesTo('upcoming')).toEqual([{ stored: 'upcoming', passed: [], pending: 'startsAt' }]);
    expect(routesTo('ongoing')).toEqual([
      { stored: 'ongoing', passed: [], pending: 'endsAt' },
      { stored: 'upcoming', passed: ['startsAt'], pending: 'endsAt' },
    ]);
    expect(routesTo('completed')).toEqual([
      { stored: 'completed', passed: [] },
      { stored: 'ongoing', passed: ['endsAt'] },
      { stored: 'upcoming', passed: ['startsAt', 'endsAt'] },
    ]);
    expect(routesTo('draft')).toEqual([{ stored: 'draft', passed: [] }]);
    expect(routesTo('cancelled')).toEqual([{ stored: 'cancelled', passed: [] }]);
  });

  it('matches an event exactly when statusAt gives that status', () => {
    for (const stored of EVENT_STATUSES) {
      for (const now of times) {
        const event = { status: stored, startsAt, endsAt };
        for (const status of EVENT_STATUSES) {
          const matched = routesTo(status).some((route) => onRoute(route, event, now));
          expect(matched, `${stored} at ${now.toISOString()} as ${status}`).toBe(
            statusAt(event, now) === status,
          );
        }
      }
    }
  });
});
