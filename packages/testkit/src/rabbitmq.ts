import fs from 'node:fs';
import path from 'node:path';
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
  restart(): Promise<void>;
  /** Stops the broker but keeps its data so that `start()` can bring it back. */
  halt(): Promise<void>;
  start(): Promise<void>;
}

const RABBITMQ_DIRS = ['/usr/lib/rabbitmq/bin', '/usr/lib/rabbitmq/sbin'];

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
  fs.writeFileSync(path.join(dir, '.erlang.cookie'), `happening-test-${amqpPort}`, { mode: 0o400 });
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
  await start();
  return {
    url: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
    managementUrl,
    start,
    halt,
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
