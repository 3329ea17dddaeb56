import path from 'node:path';
import {
  assertPortFree,
  httpOk,
  type ManagedProcess,
  spawnManaged,
  waitUntil,
} from './managed-process.ts';
import type { ServiceContext, ServiceSpec } from './services.config.ts';

/** Where to run a service: its port (the spec's by default), the repository, the logs folder. */
export interface ServiceLaunch {
  readonly repoRoot: string;
  readonly logDir: string;
  readonly port?: number;
  /** Added to (and overriding) the spec's environment. */
  readonly extraEnv?: Record<string, string>;
}

/**
 * Starts one service from its spec and waits for its `/readyz`. Fails at once, naming the
 * variable that moves it, when something already answers on its port (a service that cannot bind
 * would otherwise look like one that never got ready).
 */
export async function startService(
  spec: ServiceSpec,
  ctx: ServiceContext,
  launch: ServiceLaunch,
): Promise<ManagedProcess> {
  const [command, ...args] = spec.command ?? ['pnpm', 'exec', 'tsx', 'src/main.ts'];
  if (!command) throw new Error(`service ${spec.name} has an empty command`);
  const port = launch.port ?? spec.port;
  await assertPortFree(port, spec.name, spec.portEnv);
  const proc = spawnManaged(spec.name, command, args, {
    logDir: launch.logDir,
    cwd: path.join(launch.repoRoot, spec.dir),
    // No load balancer in front of local processes: nothing to wait for before closing.
    env: { PORT: String(port), SHUTDOWN_DRAIN_MS: '0', ...spec.env(ctx), ...launch.extraEnv },
  });
  await waitUntil(proc, () => httpOk(`http://127.0.0.1:${port}/readyz`), 120_000);
  return proc;
}
