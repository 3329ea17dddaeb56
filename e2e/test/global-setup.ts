import type { TestProject } from 'vitest/node';
import { type PlatformUrls, startPlatform } from '../src/platform.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    platform: PlatformUrls;
  }
}

/** Starts the platform once for every test file and stops it after the last. */
export default async function setup(project: TestProject) {
  const began = Date.now();
  const platform = await startPlatform();
  console.log(
    `platform up in ${((Date.now() - began) / 1000).toFixed(1)} s (logs: ${platform.logDir})`,
  );
  const { stop, ...urls } = platform;
  project.provide('platform', urls);
  return stop;
}
