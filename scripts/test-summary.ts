/** The fields of a vitest JSON report the summary reads. */
export interface VitestReport {
  readonly success: boolean;
  readonly numPassedTests: number;
  readonly numFailedTests: number;
  readonly numPendingTests: number;
  readonly numTodoTests: number;
}

/** A package whose test task ran; vitest.shared.ts names its report `<folder>.json`. */
export interface TestedPackage {
  readonly name: string;
  readonly folder: string;
}

/**
 * The closing lines of `npm test` over the packages tested and the reports found, by folder. A
 * package can fail without a failing test (its global setup threw, a test file did not load, it
 * stopped before writing its report): it is named with why, so the counts never read "0 failed"
 * under a run that failed.
 */
export function summarizeTestRuns(
  packages: readonly TestedPackage[],
  reports: ReadonlyMap<string, VitestReport>,
): string {
  const runs = packages.map((p) => ({ name: p.name, report: reports.get(p.folder) }));
  for (const [folder, report] of reports) {
    if (!packages.some((p) => p.folder === folder)) runs.push({ name: folder, report });
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures: string[] = [];
  for (const { name, report } of runs) {
    if (!report) {
      failures.push(`${name} (wrote no report)`);
      continue;
    }
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    if (report.numFailedTests > 0) {
      failures.push(`${name} (${report.numFailedTests} ${plural(report.numFailedTests, 'test')})`);
    } else if (!report.success) {
      failures.push(`${name} (failed outside its tests)`);
    }
  }
  const lines = [`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`];
  if (failures.length > 0) {
    lines.push(
      `Packages: ${runs.length - failures.length} passed, ${failures.length} failed: ` +
        failures.join(', '),
    );
  }
  return lines.join('\n');
}

function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`;
}
