import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A server process started by the testkit, with its output kept in a log file for diagnosis. */
export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `happening-${prefix}-`));
}

/** Finds an executable in PATH or in the given extra folders. */
export function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(path.delimiter)];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

export function requireExecutable(
  name: string,
  debianPackage: string,
  extraDirs: string[] = [],
): string {
  const found = findExecutable(name, extraDirs);
  if (!found) {
    throw new Error(
      `${name} was not found. Install the OS package: apt-get install -y ${debianPackage} ` +
        '(or set HAPPENING_TEST_*_URL to use servers that are already running).',
    );
  }
  return found;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs a command synchronously, as the given system user when we are root (initdb refuses root). */
export function runAs(user: string | undefined, command: string, args: string[]): string {
  if (user && isRoot())
    return execFileSync('runuser', ['-u', user, '--', command, ...args]).toString();
  return execFileSync(command, args).toString();
}

export function spawnManaged(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string; user?: string },
): ManagedProcess {
  const out = fs.openSync(options.logFile, 'a');
  const [cmd, cmdArgs] =
    options.user && isRoot()
      ? ['runuser', ['-u', options.user, '--', command, ...args]]
      : [command, args];
  const child = spawn(cmd, cmdArgs, {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  // Servers must not outlive the test process that started them.
  const killOnExit = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  process.once('exit', killOnExit);
  return {
    child,
    logFile: options.logFile,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(-child.pid, signal);
      } catch {}
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function tailLog(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
