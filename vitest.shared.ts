import path from 'node:path';
import { defineConfig } from 'vitest/config';

const reportsDir = process.env.HAPPENING_TEST_REPORTS_DIR;
const packageName = path.basename(process.cwd());

/** Shared vitest settings: integration tests talk to real servers, so they get generous timeouts. */
export const sharedTestConfig = defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    passWithNoTests: true,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: reportsDir ? ['default', 'json'] : ['default'],
    outputFile: reportsDir ? { json: path.join(reportsDir, `${packageName}.json`) } : undefined,
  },
});
