import { describe, expect, it } from 'vitest';
import { mayKnowEvent } from './booking.policy.ts';

describe('mayKnowEvent', () => {
  it('shows a public event to anyone and a members-only one to members only', () => {
    expect(mayKnowEvent({ status: 'upcoming', visibility: 'public' }, false)).toBe(true);
    expect(mayKnowEvent({ status: 'upcoming', visibility: 'members' }, false)).toBe(false);
    expect(mayKnowEvent({ status: 'cancelled', visibility: 'members' }, true)).toBe(true);
  });

  it('shows a draft to nobody, members included', () => {
    expect(mayKnowEvent({ status: 'draft', visibility: 'public' }, true)).toBe(false);
  });
});
