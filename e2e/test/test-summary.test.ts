import { describe, expect, it } from 'vitest';
import { summarizeTestRuns, type VitestReport } from '../../scripts/test-summary.ts';

const report = (counts: Partial<VitestReport>): VitestReport => ({
  success: true,
  numPassedTests: 0,
  numFailedTests: 0,
  numPendingTests: 0,
  numTodoTests: 0,
  ...counts,
});

const booking = { name: '@happening/booking', folder: 'booking' };
const e2e = { name: '@happening/e2e', folder: 'e2e' };

describe("npm test's closing summary", () => {
  it('adds up the tests of every package, one line when all passed', () => {
    const reports = new Map([
      ['booking', report({ numPassedTests: 40, numPendingTests: 1 })],
      ['e2e', report({ numPassedTests: 12, numTodoTests: 2 })],
    ]);
    expect(summarizeTestRuns([booking, e2e], reports)).toBe(
      'Tests: 52 passed, 0 failed, 3 skipped',
    );
  });

  it('names a package whose global setup threw (no test ran, success false) as failed', () => {
    const reports = new Map([
      ['booking', report({ numPassedTests: 40 })],
      ['e2e', report({ success: false })],
    ]);
    expect(summarizeTestRuns([booking, e2e], reports)).toBe(
      'Tests: 40 passed, 0 failed, 0 skipped\n' +
        'Packages: 1 passed, 1 failed: @happening/e2e (failed outside its tests)',
    );
  });

  it('names a package that wrote no report as failed', () => {
    const reports = new Map([['booking', report({ numPassedTests: 40 })]]);
    expect(summarizeTestRuns([booking, e2e], reports)).toBe(
      'Tests: 40 passed, 0 failed, 0 skipped\n' +
        'Packages: 1 passed, 1 failed: @happening/e2e (wrote no report)',
    );
  });

  it('names the packages with failing tests, with their count', () => {
    const reports = new Map([
      ['booking', report({ success: false, numPassedTests: 38, numFailedTests: 2 })],
      ['e2e', report({ success: false, numPassedTests: 11, numFailedTests: 1 })],
    ]);
    expect(summarizeTestRuns([booking, e2e], reports)).toBe(
      'Tests: 49 passed, 3 failed, 0 skipped\n' +
        'Packages: 0 passed, 2 failed: @happening/booking (2 tests), @happening/e2e (1 test)',
    );
  });

  it('still counts a report from a package turbo did not list', () => {
    expect(summarizeTestRuns([], new Map([['booking', report({ numPassedTests: 3 })]]))).toBe(
      'Tests: 3 passed, 0 failed, 0 skipped',
    );
  });
});
