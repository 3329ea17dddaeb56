import { describe, expect, it } from 'vitest';
import { userIdsWithout } from './notification.writer.ts';

describe('userIdsWithout', () => {
  it('names each person no recipient is known for, once, in the order given', () => {
    expect(
      userIdsWithout(['ann', 'gus', 'ann', 'lea', 'gus'], [{ userId: 'ann' }, { userId: 'zoe' }]),
    ).toEqual(['gus', 'lea']);
  });

  it('names nobody when everyone is known, or nobody asked', () => {
    expect(userIdsWithout(['ann'], [{ userId: 'ann' }])).toEqual([]);
    expect(userIdsWithout([], [{ userId: 'ann' }])).toEqual([]);
  });
});
