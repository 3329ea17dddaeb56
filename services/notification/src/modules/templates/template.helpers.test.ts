import { describe, expect, it } from 'vitest';
import { formatSeatList, formatWhen, plural, roleName } from './template.helpers.ts';

describe('template helpers', () => {
  it('formats a date in UTC by default and in the event zone when given', () => {
    expect(formatWhen('2026-03-03T19:00:00Z')).toBe('Tuesday, 3 March 2026 at 19:00 UTC');
    expect(formatWhen('2026-03-03T19:00:00Z', 'Europe/Berlin')).toBe(
      'Tuesday, 3 March 2026 at 20:00 (Europe/Berlin)',
    );
  });

  it('falls back to UTC for an unknown zone', () => {
    expect(formatWhen('2026-03-03T19:00:00Z', 'Mars/Olympus')).toBe(
      'Tuesday, 3 March 2026 at 19:00 UTC',
    );
  });

  it('lists seat numbers in order', () => {
    expect(formatSeatList([14, 12, 13])).toBe('12, 13 and 14');
    expect(formatSeatList([7])).toBe('7');
    expect(formatSeatList([])).toBe('');
  });

  it('picks singular or plural and names roles', () => {
    expect(plural(1, 'seat', 'seats')).toBe('seat');
    expect(plural(3, 'seat', 'seats')).toBe('seats');
    expect(roleName('organizer')).toBe('an organizer');
  });
});
