import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles per attempt within half to full of the ceiling', () => {
    expect(backoffDelay(0, options, () => 0)).toBe(50);
    expect(backoffDelay(0, options, () => 1)).toBe(100);
    expect(backoffDelay(2, options, () => 1)).toBe(400);
  });

  it('never exceeds the maximum', () => {
    expect(backoffDelay(30, options, () => 1)).toBe(1_000);
  });
});
