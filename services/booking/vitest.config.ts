import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

export default mergeConfig(
  sharedTestConfig,
  defineConfig({
    test: {
      globalSetup: [fileURLToPath(import.meta.resolve('@happening/testkit/shared-servers'))],
    },
  }),
);
