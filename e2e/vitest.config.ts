import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../vitest.shared.ts';

// One platform for the whole suite, started once by the global setup; the journeys build on
// each other and run in order in one file.
export default mergeConfig(
  sharedTestConfig,
  defineConfig({
    test: {
      globalSetup: ['./test/global-setup.ts'],
      fileParallelism: false,
      testTimeout: 120_000,
    },
  }),
);
