import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { eventually } from './eventually.ts';
import { freePort, waitForPort } from './ports.ts';
import {
  type ManagedProcess,
  makeTempDir,
  requireExecutable,
  spawnManaged,
  tailLog,
} from './process.ts';
import type { ServerHandle } from './server-handle.ts';

/** A RabbitMQ broker under the test's control; `restart()` keeps its data (durable queues survive). */
export interface RabbitMqHandle extends ServerHandle {
  readonly managementUrl: string;
  /** The Erlang distribution port of a node run as a local process (none in a container). */
  readonly distributionPort?: number;
  restart(): Promise<void>;
  /** Stops the broker but keeps its data so that `start()` can bring it back. */
  halt(): Promise<void>;
  start(): Promise<void>;
  /**
   * Sets the memory high watermark to 1 byte, so RabbitMQ raises its memory alarm and blocks the
   * connections that publish; resolves once the alarm is in effect.
   */
  raiseMemoryAlarm(): Promise<void>;
  /** Puts the default watermark (0.4 of the RAM) back; resolves once no alarm is in effect. */
  clearMemoryAlarm(): Promise<void>;
}

/** Runs `rabbitmqctl` or `rabbitmq-diagnostics` against the node and resolves to its exit code. */
export type RabbitMqCli = (
  tool: 'rabbitmqctl' | 'rabbitmq-diagnostics',
  args: string[],
) => Promise<number>;

/** The memory alarm switched through the node's CLI tools, wherever they run. */
export function memoryAlarmSwitch(
  cli: RabbitMqCli,
): Pick<RabbitMqHandle, 'raiseMemoryAlarm' | 'clearMemoryAlarm'> {
  // `check_alarms` exits non-zero while an alarm is in effect.
  const alarmInEffect = async () => (await cli('rabbitmq-diagnostics', ['check_alarms'])) !== 0;
  async function setWatermark(watermark: string[], alarm: boolean): Promise<void> {
    const code = await cli('rabbitmqctl', ['set_vm_memory_high_watermark', ...watermark]);
    if (code !== 0) throw new Error(`rabbitmqctl set_vm_memory_high_watermark exited ${code}`);
    await eventually(async () => (await alarmInEffect()) === alarm, {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: `RabbitMQ's memory alarm to ${alarm ? 'go off' : 'clear'}`,
    });
  }
  return {
    raiseMemoryAlarm: () => setWatermark(['absolute', '1'], true),
    clearMemoryAlarm: () => setWatermark(['0.4'], false),
  };
}

const RABBITMQ_DIRS = ['/usr/lib/rabbitmq/bin', '/usr/lib/rabbitmq/sbin'];

/**
 * Erlang arguments that keep a node's distribution listener (the port its CLI tools, and any
 * node holding its cookie, connect to and run code through) on the loopback interface:
 * `ERL_EPMD_ADDRESS` binds only the port mapper, and the listener otherwise takes every interface.
 */
export const LOOPBACK_DISTRIBUTION = '-kernel inet_dist_use_interface {127,0,0,1}';

/** A cookie nobody can guess: whoever holds a node's cookie and reaches it can run code there. */
export function erlangCookie(): string {
  return randomBytes(24).toString('base64url');
}

/** Starts a throwaway RabbitMQ node (with the management plugin) as a local process. */
export async function startLocalRabbitMq(): Promise<RabbitMqHandle> {
  const server = requireExecutable('rabbitmq-server', 'rabbitmq-server', RABBITMQ_DIRS);
  const dir = makeTempDir('rabbitmq');
  const [amqpPort, managementPort, distPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const nodeName = `happening-${amqpPort}@localhost`;
  fs.writeFileSync(
    path.join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
      'management.tcp.ip = 127.0.0.1',
      `management.tcp.port = ${managementPort}`,
      'loopback_users = none',
      'log.console = true',
      'log.console.level = warning',
      'log.file = false',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  fs.writeFileSync(path.join(dir, '.erlang.cookie'), erlangCookie(), { mode: 0o400 });
  const env = {
    HOME: dir,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: LOOPBACK_DISTRIBUTION,
  };
  const managementUrl = `http://guest:guest@127.0.0.1:${managementPort}`;
  let proc: ManagedProcess | undefined;

  async function start(): Promise<void> {
    proc = spawnManaged(server, [], { env, cwd: dir, logFile: path.join(dir, 'rabbitmq.log') });
    try {
      await waitForPort(amqpPort, 90_000);
      await waitForManagement(managementPort, 60_000);
    } catch (error) {
      await proc.stop('SIGKILL');
      throw new Error(
        `RabbitMQ did not start: ${(error as Error).message}\n${tailLog(proc.logFile)}`,
      );
    }
  }
  async function halt(): Promise<void> {
    await proc?.stop('SIGTERM');
    proc = undefined;
  }
  // Found beside rabbitmq-server, and run with its environment: the cookie is in its HOME.
  const tools = {
    rabbitmqctl: requireExecutable('rabbitmqctl', 'rabbitmq-server', RABBITMQ_DIRS),
    'rabbitmq-diagnostics': requireExecutable(
      'rabbitmq-diagnostics',
      'rabbitmq-server',
      RABBITMQ_DIRS,
    ),
  };
  const cli: RabbitMqCli = (tool, args) =>
    new Promise((resolve, reject) => {
      execFile(
        tools[tool],
        ['-n', nodeName, ...args],
        { env: { ...process.env, ...env }, timeout: 60_000 },
        (error) => {
          if (!error) resolve(0);
          else if (typeof error.code === 'number') resolve(error.code);
          else reject(error);
        },
      );
    });
  await start();
  return {
    url: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
    managementUrl,
    distributionPort: distPort,
    start,
    halt,
    ...memoryAlarmSwitch(cli),
    async restart() {
      await halt();
      await start();
    },
    async stop() {
      await halt();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForManagement(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/overview`, {
        headers: { authorization: auth },
      });
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`RabbitMQ management did not answer on port ${port}`);
}
