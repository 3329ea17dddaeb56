import { describe, expect, it } from 'vitest';
import { outboxRetryDelayMs } from './outbox.retry.ts';

describe('outboxRetryDelayMs', () => {
  it('doubles from the initial delay', () => {
    expect([1, 2, 3].map((n) => outboxRetryDelayMs(n, 10_000))).toEqual([200, 400, 800]);
  });

  it('stays at the cap', () => {
    expect(outboxRetryDelayMs(40, 5_000)).toBe(5_000);
  });
});
