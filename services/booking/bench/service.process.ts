import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@happening/testkit';
import { parse } from 'yaml';

const serviceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ServiceProcess {
  address: string;
  pid: number;
  /** Node flags it was started with. */
  nodeArgs: string[];
  /** CPU time (user + system) the process has used so far, in ms; from /proc (Linux). */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** The Node flags the Helm chart starts booking with (`services.booking.nodeArgs`). */
function chartNodeArgs(): string[] {
  const values = parse(
    fs.readFileSync(path.resolve(serviceRoot, '../../k8s/happening/values.yaml'), 'utf8'),
  ) as { services: { booking: { nodeArgs?: string[] } } };
  return values.services.booking.nodeArgs ?? [];
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

function processCpuMs(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/**
 * Runs the booking service as its own process (`src/main.ts` with the chart's Node flags, as
 * production runs it), so the load generator never shares its event loop.
 */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  // e.g. BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the service.
  const nodeArgs = [
    ...chartNodeArgs(),
    ...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', 'src/main.ts'],
    {
      cwd: serviceRoot,
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const address = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const code = await Promise.race([exited, new Promise((r) => setTimeout(r, 200, 'wait'))]);
    if (code !== 'wait') throw new Error(`booking service exited (${String(code)}) while starting`);
    const ready = await fetch(`${address}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('booking service did not become ready within 60 s');
    }
  }
  return {
    address,
    pid: child.pid!,
    nodeArgs,
    cpuMs: () => processCpuMs(child.pid!),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
