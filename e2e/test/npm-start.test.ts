import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  dockerEngineAnswers,
  freePort,
  listeningAddresses,
  loopbackOnly,
} from '@happening/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../scripts/start/services.config.ts';
import { KEYCLOAK_VERSION, PORT_ENV } from '../../scripts/start/stack.config.ts';
import { repoRoot } from '../src/platform.ts';

/**
 * `npm start` as a user runs it (npm, then scripts/bootstrap.mjs, then scripts/start.ts), in a
 * process group of its own, stopped with a terminal's Ctrl-C: every server it started must be
 * gone afterwards. It runs on free ports with its data in a folder of its own, so it collides
 * neither with a developer's `npm start` nor with the journeys' platform.
 */

/** The stack's data: wiped at each run but for Keycloak's distribution, augmented once for it. */
const dataDir = path.join(repoRoot, '.data', 'e2e', 'npm-start');
const keycloakHome = path.join(dataDir, 'keycloak', `keycloak-${KEYCLOAK_VERSION}`);
/** What start.ts starts, in start order (it stops them in reverse). */
const PARTS = [
  'postgres',
  'redis',
  'rabbitmq',
  'maildev',
  'keycloak',
  ...SERVICES.map((s) => s.name),
];
/** Bounds against hanging, not timings: this machine is slow and shared. */
const START_BOUND_MS = 10 * 60_000;
const STOP_BOUND_MS = 5 * 60_000;

// With a Docker engine, npm start runs infra/docker-compose.yml instead of local processes.
const docker = await dockerEngineAnswers();

let npm: ChildProcess | undefined;

afterAll(() => {
  // Whatever a failed run left: the npm process group, then every process of this stack.
  if (npm?.pid && groupMembers(npm.pid).length > 0) signalGroup(npm.pid, 'SIGKILL');
  killStackProcesses();
});

describe.skipIf(docker)('npm start', () => {
  it(
    'stops every server it started on a Ctrl-C, and exits 0',
    async () => {
      await prepareDataDir();
      const ports = await stackPorts();
      const gatewayPort = ports.HAPPENING_GATEWAY_PORT;
      const amqpPort = ports[PORT_ENV.amqp];
      if (!gatewayPort || !amqpPort) throw new Error('no port for the gateway or AMQP');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        HAPPENING_DATA_DIR: dataDir,
        ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
      };
      // What vitest sets for its workers, not what a user's shell has.
      for (const name of Object.keys(env)) {
        if (/^(VITEST|TEST$|NODE_ENV$)/.test(name)) delete env[name];
      }

      const began = Date.now();
      const child = spawn('npm', ['start'], {
        cwd: repoRoot,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      npm = child;
      const outputFile = path.join(dataDir, 'npm-start.out');
      let output = '';
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        fs.appendFileSync(outputFile, chunk);
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      let closed = false;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
        (resolve) =>
          child.once('close', (code, signal) => {
            closed = true;
            resolve({ code, signal });
          }),
      );
      const pgid = child.pid;
      if (!pgid) throw new Error('npm did not start');
      const tail = () => `\n--- npm start's output (${outputFile}) ---\n${output.slice(-4000)}`;

      // Up: the welcome printed after the demo data, and the gateway healthy.
      const isUp = () =>
        output.includes('demo data… seeded') && output.includes('Happening is up.');
      await waitFor(() => closed || isUp(), START_BOUND_MS);
      expect(!closed && isUp(), `npm start did not come up${tail()}`).toBe(true);
      const health = await fetch(`http://127.0.0.1:${gatewayPort}/healthz`);
      expect(health.status, `gateway /healthz${tail()}`).toBe(200);
      // Every server binds loopback only, RabbitMQ's Erlang distribution (AMQP + 20000) too.
      const beyondLoopback = [...Object.values(ports), amqpPort + 20_000]
        .map((port) => ({ port, addresses: listeningAddresses(port) }))
        .filter(({ addresses }) => !loopbackOnly(addresses));
      expect.soft(beyondLoopback, 'ports listening beyond loopback').toEqual([]);
      expect.soft(listeningAddresses(amqpPort + 20_000), 'the distribution port').not.toEqual([]);
      const upAfter = Date.now() - began;

      // A terminal's Ctrl-C: SIGINT to the whole group (npm, bootstrap, start.ts), which npm and
      // bootstrap relay once more. Then Ctrl-C again and again while it stops, as an impatient
      // user does: start.ts heeds only the first signal, and nothing between it and the terminal
      // may cut its stop short. The repeats end when Redis's turn comes, so that the last one
      // reaches every process well before it exits. The tsx command's relay (bootstrap before
      // b53a181) killed start.ts on about half of single Ctrl-Cs in a model of this chain: the
      // repeats catch it every time.
      let ctrlCs = 0;
      const ctrlC = async () => {
        ctrlCs++;
        signalGroup(pgid, 'SIGINT');
        await sleep(5);
        signalGroup(pgid, 'SIGINT');
      };
      const lastServers = () => output.includes('  redis… ');
      const stopBegan = Date.now();
      await ctrlC();
      while (!closed && !lastServers() && Date.now() - stopBegan < STOP_BOUND_MS) {
        await sleep(100);
        if (!closed && !lastServers()) await ctrlC();
      }
      await waitFor(() => closed, STOP_BOUND_MS - (Date.now() - stopBegan));
      const result = closed ? await exited : 'still running';
      console.log(
        `npm start: up in ${(upAfter / 1000).toFixed(1)} s, ` +
          `stopped in ${((Date.now() - stopBegan) / 1000).toFixed(1)} s (${ctrlCs} Ctrl-Cs)`,
      );
      // A server's last processes may take a moment more to go than the one start.ts waited for.
      await waitFor(() => stackProcesses().length === 0, 15_000);

      // Soft: a failing run reports every check; the output is shown once, with the exit.
      expect.soft(result, `exit of npm start${tail()}`).toEqual({ code: 0, signal: null });
      expect.soft(groupMembers(pgid), 'processes left in npm start’s process group').toEqual([]);
      expect
        .soft(
          stackProcesses().map((p) => `${p.pid} ${p.args}`),
          'processes of the stack left running',
        )
        .toEqual([]);
      const open = [];
      for (const [name, port] of Object.entries(ports)) {
        if (await accepts(port)) open.push(`${name}=${port}`);
      }
      if (await accepts(amqpPort + 20_000)) open.push(`RabbitMQ distribution ${amqpPort + 20_000}`);
      expect.soft(open, 'ports still accepting connections').toEqual([]);
      const stopped = PARTS.toReversed().map((name) => `  ${name}… stopped`);
      expect
        .soft(
          stopped.filter((line) => !output.includes(line)),
          'parts the output does not report stopped',
        )
        .toEqual([]);
      const order = stopped.map((line) => output.indexOf(line));
      if (!order.includes(-1)) {
        expect
          .soft(order, 'the parts are stopped in reverse order')
          .toEqual(order.toSorted((a, b) => a - b));
      }
    },
    START_BOUND_MS + STOP_BOUND_MS + 60_000,
  );
});

/** The data folder as on a first start, but for Keycloak's distribution (not its database). */
async function prepareDataDir(): Promise<void> {
  // An earlier run that was itself killed may have left its servers behind.
  killStackProcesses();
  await waitFor(() => stackProcesses().length === 0, 30_000);
  fs.mkdirSync(dataDir, { recursive: true });
  // As root, when the postgres user cannot reach the clone, the cluster lives outside it, linked.
  const postgresLink = path.join(dataDir, 'postgres');
  if (fs.lstatSync(postgresLink, { throwIfNoEntry: false })?.isSymbolicLink()) {
    const target = fs.readlinkSync(postgresLink);
    fs.rmSync(path.resolve(dataDir, target), { recursive: true, force: true });
  }
  for (const entry of fs.readdirSync(dataDir)) {
    if (entry !== 'keycloak')
      fs.rmSync(path.join(dataDir, entry), { recursive: true, force: true });
  }
  fs.rmSync(path.join(keycloakHome, 'data'), { recursive: true, force: true });
}

/** A free port for every HAPPENING_*_PORT variable npm start reads. */
async function stackPorts(): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  for (const name of [...Object.values(PORT_ENV), ...SERVICES.map((s) => s.portEnv)]) {
    let port = await freePort();
    // RabbitMQ's distribution listens on the AMQP port + 20000.
    while (name === PORT_ENV.amqp && (port + 20_000 > 65_535 || !(await listenable(port + 20_000))))
      port = await freePort();
    ports[name] = port;
  }
  return ports;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {}
}

interface Proc {
  readonly pid: number;
  readonly pgid: number;
  /** `?` without a controlling terminal. */
  readonly tty: string;
  readonly args: string;
}

function processes(): Proc[] {
  return execFileSync('ps', ['-eo', 'pid=,pgid=,tty=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), pgid: Number(m[2]), tty: m[3] ?? '?', args: m[4] ?? '' }))
    .filter((p) => p.pid !== process.pid);
}

function groupMembers(pgid: number): string[] {
  return processes()
    .filter((p) => p.pgid === pgid)
    .map((p) => `${p.pid} ${p.args}`);
}

/**
 * Every process of this stack: the data folder is in its command line (the servers' own), in its
 * environment (HAPPENING_DATA_DIR, inherited by everything npm start spawns, the services and
 * PostgreSQL's workers included) or its working folder, a server's folder in the data folder
 * (Redis rewrites both its command line and its environment), without a terminal. Not epmd:
 * Erlang's name server outlives the nodes by design and serves every node on the machine.
 */
function stackProcesses(): Proc[] {
  const marker = `HAPPENING_DATA_DIR=${dataDir}\0`;
  const inServerDir = (dir: string) =>
    dir.startsWith(`${dataDir}/`) && !dir.startsWith(path.join(dataDir, 'logs'));
  return processes().filter((p) => {
    if (/(^|\/)epmd(\s|$)/.test(p.args)) return false;
    // npm start runs in a session of its own, so nothing of the stack has a terminal: a process
    // that has one is a person's (a `tail -f` of a log, a shell in the folder), never killed.
    if (p.tty !== '?') return false;
    if (p.args.includes(dataDir)) return true;
    try {
      if (inServerDir(fs.readlinkSync(`/proc/${p.pid}/cwd`))) return true;
      return fs.readFileSync(`/proc/${p.pid}/environ`, 'latin1').includes(marker);
    } catch {
      return false;
    }
  });
}

function killStackProcesses(): void {
  for (const proc of stackProcesses()) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {}
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(500);
  }
  return condition();
}
