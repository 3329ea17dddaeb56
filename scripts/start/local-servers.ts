import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { erlangCookie, LOOPBACK_DISTRIBUTION } from '@happening/testkit';
import {
  assertPortFree,
  httpOk,
  isRoot,
  type ManagedProcess,
  portAccepts,
  spawnManaged,
  waitUntil,
} from './managed-process.ts';
import { SERVER_BIN_DIRS } from './server-bin-dirs.mjs';
import { PORT_ENV, PORTS } from './stack.config.ts';

/** Folders of the local stack: data that survives restarts, and the servers' logs. */
export interface StackDirs {
  readonly data: string;
  readonly logs: string;
}

/** Fails fast with the variable to set when another program already holds one of our ports. */
export function assertServerPortFree(name: keyof typeof PORTS): Promise<void> {
  return assertPortFree(PORTS[name], name, PORT_ENV[name]);
}

function findExecutable(name: string, extraDirs: readonly string[] = []): string {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(path.delimiter)];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} was not found: apt-get install -y ${debianPackageOf(name)}`);
}

function debianPackageOf(executable: string): string {
  if (executable === 'initdb' || executable === 'postgres') return 'postgresql';
  return executable;
}

function postgresBinDirs(): string[] {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return [];
  return fs
    .readdirSync(base)
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => `${base}/${version}/bin`);
}

/**
 * The cluster's folder: `.data/postgres`, unless the system user that runs PostgreSQL for root
 * cannot reach it (a clone under root's private home): then a folder in that user's home, linked
 * from `.data/postgres` so the next start finds it.
 */
function postgresDir(data: string, user: string | undefined): string {
  const dir = path.join(data, 'postgres');
  if (fs.existsSync(dir)) return fs.realpathSync(dir);
  fs.mkdirSync(data, { recursive: true });
  if (!user || spawnSync('runuser', ['-u', user, '--', 'test', '-x', data]).status === 0)
    return dir;
  const home = execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).split(':')[5];
  const hash = createHash('sha256').update(fs.realpathSync(data)).digest('hex').slice(0, 12);
  const outside = path.join(home ?? '/var/lib/postgresql', `happening-${hash}`);
  fs.mkdirSync(outside, { recursive: true });
  fs.symlinkSync(outside, dir);
  return outside;
}

/** PostgreSQL with its cluster in `.data/postgres`, created on first start with a `happening` db. */
export async function startPostgres(dirs: StackDirs): Promise<ManagedProcess> {
  await assertServerPortFree('postgres');
  const binDirs = postgresBinDirs();
  const postgres = findExecutable('postgres', binDirs);
  const user = isRoot() ? 'postgres' : undefined;
  const dir = postgresDir(dirs.data, user);
  const dataDir = path.join(dir, 'data');
  const asUser = (cmd: string, args: string[]) =>
    execFileSync(user ? 'runuser' : cmd, user ? ['-u', user, '--', cmd, ...args] : args, {
      stdio: 'pipe',
    });
  const firstStart = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (firstStart) {
    fs.mkdirSync(dir, { recursive: true });
    if (user) execFileSync('chown', ['-R', `${user}:${user}`, dir]);
    asUser(findExecutable('initdb', binDirs), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
    ]);
  }
  const proc = spawnManaged(
    'postgres',
    postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(PORTS.postgres),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'max_connections=200',
    ],
    { logDir: dirs.logs, user },
  );
  await waitUntil(proc, () => portAccepts(PORTS.postgres), 60_000);
  const psql = findExecutable('psql', binDirs);
  const query = (sql: string) =>
    asUser(psql, ['-h', dir, '-p', String(PORTS.postgres), '-U', 'postgres', '-tAc', sql])
      .toString()
      .trim();
  // The server may accept TCP a moment before it accepts queries; psql retries are cheap.
  await waitUntil(
    proc,
    async () => {
      try {
        query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    30_000,
  );
  // Checked at every start, not only the first: a first start stopped between initdb and here
  // (Ctrl-C, the wait above running out) left a cluster without the database for good.
  if (query(`SELECT count(*) FROM pg_database WHERE datname = 'happening'`) === '0') {
    query('CREATE DATABASE happening');
  }
  return proc;
}

/** Redis with an append-only file in `.data/redis`. */
export async function startRedis(dirs: StackDirs): Promise<ManagedProcess> {
  await assertServerPortFree('redis');
  const dir = path.join(dirs.data, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  const proc = spawnManaged(
    'redis',
    findExecutable('redis-server'),
    ['--port', String(PORTS.redis), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes'],
    { logDir: dirs.logs },
  );
  await waitUntil(proc, () => portAccepts(PORTS.redis), 30_000);
  return proc;
}

/**
 * A RabbitMQ node with the management plugin, its database in `.data/rabbitmq`. `nodeName` (the
 * part before `@localhost`) must stay the same for a data folder: the database is keyed by it.
 */
export async function startRabbitMq(
  dirs: StackDirs,
  nodeName = 'happening-local',
): Promise<ManagedProcess> {
  await assertServerPortFree('amqp');
  await assertServerPortFree('rabbitMqManagement');
  const server = findExecutable('rabbitmq-server', SERVER_BIN_DIRS['rabbitmq-server']);
  const dir = path.join(dirs.data, 'rabbitmq');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${PORTS.amqp}`,
      'management.tcp.ip = 127.0.0.1',
      `management.tcp.port = ${PORTS.rabbitMqManagement}`,
      'log.console = true',
      'log.console.level = warning',
      'log.file = false',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  const cookie = path.join(dir, '.erlang.cookie');
  // Earlier stacks kept a cookie written in this repository: whoever reached the node with it
  // could run code there. A fresh secret replaces it.
  if (!fs.existsSync(cookie) || fs.readFileSync(cookie, 'utf8') === 'happening-local-stack') {
    fs.rmSync(cookie, { force: true });
    fs.writeFileSync(cookie, erlangCookie(), { mode: 0o400 });
  }
  const proc = spawnManaged('rabbitmq', server, [], {
    logDir: dirs.logs,
    cwd: dir,
    env: {
      HOME: dir,
      // A fixed node name: the node's database is keyed by it, so the data is found again.
      RABBITMQ_NODENAME: `${nodeName}@localhost`,
      RABBITMQ_NODE_PORT: String(PORTS.amqp),
      RABBITMQ_DIST_PORT: String(PORTS.amqp + 20000),
      RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(dir, 'log'),
      RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: LOOPBACK_DISTRIBUTION,
    },
  });
  const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
  await waitUntil(
    proc,
    () =>
      httpOk(`http://127.0.0.1:${PORTS.rabbitMqManagement}/api/overview`, { authorization: auth }),
    120_000,
  );
  return proc;
}

/** maildev: catches every mail sent to SMTP and shows it on a web page; mails kept in `.data/mail`. */
export async function startMailSink(dirs: StackDirs, repoRoot: string): Promise<ManagedProcess> {
  await assertServerPortFree('smtp');
  await assertServerPortFree('mailWeb');
  const mailDir = path.join(dirs.data, 'mail');
  fs.mkdirSync(mailDir, { recursive: true });
  return spawnMailDev({
    smtpPort: PORTS.smtp,
    webPort: PORTS.mailWeb,
    mailDir,
    logDir: dirs.logs,
    repoRoot,
  });
}

/** maildev on 127.0.0.1 with its mails in `mailDir`, once its web port answers `/healthz`. */
export async function spawnMailDev(options: {
  readonly smtpPort: number;
  readonly webPort: number;
  readonly mailDir: string;
  readonly logDir: string;
  readonly repoRoot: string;
}): Promise<ManagedProcess> {
  const proc = spawnManaged(
    'maildev',
    path.join(options.repoRoot, 'node_modules', '.bin', 'maildev'),
    [
      '--smtp',
      String(options.smtpPort),
      '--web',
      String(options.webPort),
      '--ip',
      '127.0.0.1',
      '--mail-directory',
      options.mailDir,
    ],
    { logDir: options.logDir },
  );
  await waitUntil(proc, () => httpOk(`http://127.0.0.1:${options.webPort}/healthz`), 30_000);
  return proc;
}
