import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { eventually } from './eventually.ts';
import { freePort } from './ports.ts';

/** A service's `src/main.ts` running as its own process, as its image runs it. */
export interface ServiceMain {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
  /** `/readyz`'s status now, undefined while nothing listens. */
  readiness(): Promise<number | undefined>;
}

/**
 * Starts `src/main.ts` of the service in `serviceDir` (through tsx, on a free port on loopback,
 * logging nothing unless `env` says otherwise) and resolves once its `/readyz` answers 200; fails
 * at once if it exits first.
 */
export async function startServiceMain(
  serviceDir: string,
  env: Record<string, string>,
  options: { readyTimeoutMs?: number } = {},
): Promise<ServiceMain> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serviceDir,
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env, PORT: port },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const url = `http://127.0.0.1:${port}`;
  const readiness = async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status;
  let ready = false;
  const crashed = exited.then((code) => {
    if (!ready)
      throw new Error(`${serviceDir}/src/main.ts exited with ${code} before it was ready`);
  });
  // Observed by the race below; after a timeout there, the exit it forces must not go unhandled.
  crashed.catch(() => undefined);
  try {
    await Promise.race([
      crashed,
      eventually(async () => (await readiness()) === 200, {
        what: `${serviceDir} ready`,
        timeoutMs: options.readyTimeoutMs ?? 30_000,
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  ready = true;
  return { url, child, exited, readiness };
}
