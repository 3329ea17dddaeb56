import type { StackUrls } from './stack.config.ts';

/** One Happening service that `npm start` runs as a local process once the stack is up. */
export interface ServiceSpec {
  /** Shown in the output and used for its log file `.data/logs/<name>.log`. */
  readonly name: string;
  /** Folder of the service, relative to the repository root (e.g. `services/catalog`). */
  readonly dir: string;
  /** Port the service listens on; `/readyz` on it is polled before the next service starts. */
  readonly port: number;
  /** The service's environment, built from where the stack runs. */
  readonly env: (stack: StackUrls) => Record<string, string>;
  /** Command run in `dir`; defaults to `pnpm exec tsx src/main.ts`. */
  readonly command?: readonly string[];
}

/**
 * The services `npm start` brings up, in start order (a service that others call goes first; the
 * gateway last). A service named `gateway` is printed as the API's entry point.
 */
export const SERVICES: readonly ServiceSpec[] = [];
