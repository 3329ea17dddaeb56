import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A long-running process of the local stack, its output kept in `.data/logs/<name>.log`. */
export interface ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Signals the process group and waits for it to exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly logDir: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Run as this system user when we are root (PostgreSQL refuses to run as root). */
  readonly user?: string;
}

/** Kills every process group still running when this script exits, even when it crashes. */
const killAtExit = new Set<() => void>();
process.once('exit', () => {
  for (const kill of killAtExit) kill();
});

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function spawnManaged(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ManagedProcess {
  fs.mkdirSync(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const [cmd, cmdArgs] =
    options.user && isRoot()
      ? ['runuser', ['-u', options.user, '--', command, ...args]]
      : [command, [...args]];
  // Own process group: a terminal's Ctrl-C reaches only this script, which then stops the
  // servers in order instead of all of them dying at once.
  const child = spawn(cmd, cmdArgs, {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {}
  };
  // Nothing started here may outlive this script.
  const killOnExit = () => killGroup('SIGKILL');
  killAtExit.add(killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    logFile,
    child,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000) {
      killAtExit.delete(killOnExit);
      if (child.exitCode === null && child.signalCode === null) killGroup(signal);
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once `probe` answers true, or rejects with the process's last log lines. */
export async function waitUntil(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited early:\n${tailLog(proc.logFile)}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${proc.name} was not ready within ${timeoutMs} ms:\n${tailLog(proc.logFile)}`);
}

/** Fails fast with the variable to set when another program already holds `port`. */
export async function assertPortFree(port: number, label: string, variable: string): Promise<void> {
  if (await portAccepts(port)) {
    throw new Error(
      `port ${port} (${label}) is already in use; stop what holds it or set ${variable}`,
    );
  }
}

export function portAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function httpOk(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(2_000) });
  return res.ok;
}

export function tailLog(file: string, lines = 25): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
