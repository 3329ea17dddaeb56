import { describe, expect, it } from 'vitest';
import { newToTheirPerson, type PersonsNotice } from './once-per-person.policy.ts';

type Row = PersonsNotice & { recipient: string };

const notice = (overrides: Partial<Row> = {}): Row => ({
  source_event_id: 's1',
  user_id: 'ann',
  channel: 'email',
  recipient: 'ann@example.test',
  ...overrides,
});

describe('newToTheirPerson', () => {
  it('drops a person’s notice of a source event on a channel they have one of, whatever its address', () => {
    const existing = [notice({ recipient: 'old-ann@example.test' })];
    expect(newToTheirPerson([notice()], existing)).toEqual([]);
  });

  it('keeps the notice on another channel, of another source event, or for another person', () => {
    const rows = [
      notice({ channel: 'sms' }),
      notice({ source_event_id: 's2' }),
      notice({ user_id: 'gus' }),
    ];
    expect(newToTheirPerson(rows, [notice()])).toEqual(rows);
  });

  it('keeps one row of a person listed twice', () => {
    const first = notice();
    expect(newToTheirPerson([first, notice({ recipient: 'x' })], [])).toEqual([first]);
  });

  it('leaves notices of no known person to the address key', () => {
    const invite = notice({ user_id: null });
    expect(newToTheirPerson([invite, invite], [notice({ user_id: null })])).toEqual([
      invite,
      invite,
    ]);
  });
});
