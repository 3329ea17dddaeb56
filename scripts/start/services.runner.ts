import path from 'node:path';
import { httpOk, type ManagedProcess, spawnManaged, waitUntil } from './managed-process.ts';
import type { ServiceSpec } from './services.config.ts';
import type { StackUrls } from './stack.config.ts';

/** Starts one service from its spec and waits for its `/readyz`. */
export async function startService(
  spec: ServiceSpec,
  stack: StackUrls,
  repoRoot: string,
  logDir: string,
): Promise<ManagedProcess> {
  const [command, ...args] = spec.command ?? ['pnpm', 'exec', 'tsx', 'src/main.ts'];
  if (!command) throw new Error(`service ${spec.name} has an empty command`);
  const proc = spawnManaged(spec.name, command, args, {
    logDir,
    cwd: path.join(repoRoot, spec.dir),
    env: { PORT: String(spec.port), ...spec.env(stack) },
  });
  await waitUntil(proc, () => httpOk(`http://127.0.0.1:${spec.port}/readyz`), 120_000);
  return proc;
}
