import { describe, expect, it } from 'vitest';
import { describeChanges } from './change.describer.ts';

describe('describeChanges', () => {
  it('puts time and place first and formats dates in the event zone', () => {
    const lines = describeChanges(
      {
        name: { from: 'Old', to: 'New' },
        venue: { from: 'Hall A', to: 'Hall B' },
        startsAt: { from: '2026-03-03T19:00:00Z', to: '2026-03-04T19:00:00Z' },
        version: { from: 1, to: 2 },
      },
      'Europe/Berlin',
    );
    expect(lines).toEqual([
      {
        label: 'Start',
        from: 'Tuesday, 3 March 2026 at 20:00 (Europe/Berlin)',
        to: 'Wednesday, 4 March 2026 at 20:00 (Europe/Berlin)',
      },
      { label: 'Venue', from: 'Hall A', to: 'Hall B' },
      { label: 'Name', from: 'Old', to: 'New' },
    ]);
  });

  it('shortens long values and names empty ones', () => {
    const [line] = describeChanges({ description: { from: '', to: 'x'.repeat(500) } }, 'UTC');
    expect(line?.from).toBe('(none)');
    expect(line?.to).toHaveLength(200);
  });
});
