// `npm start` and `npm test` begin here, in plain JavaScript, because on a fresh clone neither tsx
// nor any other node module is installed yet. This installs what is missing (the OS packages of
// the servers and of Keycloak, pnpm, the workspace's node modules), then hands over to
// scripts/<command>.ts.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SERVER_BIN_DIRS } from './start/server-bin-dirs.mjs';
import { canWriteOrCreate } from './start/writable-folder.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...args] = process.argv.slice(2);

/**
 * Debian packages of the servers, each with its executable and the folder that holds it off PATH
 * (a file in it, or for PostgreSQL a version folder); Docker runs them instead.
 */
const SERVER_PACKAGES = {
  postgresql: ['initdb', '/usr/lib/postgresql'],
  'redis-server': ['redis-server'],
  'rabbitmq-server': ['rabbitmq-server', ...SERVER_BIN_DIRS['rabbitmq-server']],
};
/**
 * What fetches and unpacks the Keycloak distribution: `npm start` runs it unless Docker answers,
 * the end-to-end tests of `npm test` always.
 */
const KEYCLOAK_PACKAGES = {
  maven: ['mvn'],
  unzip: ['unzip'],
};
const COMMANDS = ['start', 'test'];

if (!COMMANDS.includes(command)) {
  console.error(`usage: node scripts/bootstrap.mjs <${COMMANDS.join('|')}> [args]`);
  process.exit(2);
}
const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`Node 20 or newer is needed (this is ${process.version}).`);
  process.exit(1);
}

function onPath(name) {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => fs.existsSync(path.join(dir, name)));
}

function installed([executable, ...folders]) {
  if (onPath(executable)) return true;
  return folders.some((folder) => {
    if (!fs.existsSync(folder)) return false;
    // Debian keeps PostgreSQL's server binaries under /usr/lib/postgresql/<version>/bin.
    if (executable === 'initdb') return fs.readdirSync(folder).length > 0;
    return fs.existsSync(path.join(folder, executable));
  });
}

/**
 * Asks testcontainers, as `npm start` and the tests do (`dockerEngineAnswers`), so all agree on
 * whether the servers run in containers (it also finds an engine through DOCKER_HOST or its own
 * configuration, which `docker info` may not). Needs the node modules installed.
 */
async function dockerAnswers() {
  const fromTestkit = createRequire(path.join(root, 'packages', 'testkit', 'package.json'));
  const { getContainerRuntimeClient } = await import(
    pathToFileURL(fromTestkit.resolve('testcontainers')).href
  );
  return getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
}

function run(cmd, cmdArgs, options = {}) {
  console.log(`> ${cmd} ${cmdArgs.join(' ')}`);
  execFileSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, ...options });
}

function missingOf(packages) {
  return Object.entries(packages)
    .filter(([, probe]) => !installed(probe))
    .map(([name]) => name);
}

async function installOsPackages() {
  let missing = [...missingOf(SERVER_PACKAGES), ...missingOf(KEYCLOAK_PACKAGES)];
  if (missing.length === 0) return;
  const docker = await dockerAnswers();
  if (docker) {
    // The servers run in containers then, and so does Keycloak for `npm start`.
    missing = command === 'test' ? missingOf(KEYCLOAK_PACKAGES) : [];
    if (missing.length === 0) return;
  }
  const isRoot = process.getuid?.() === 0;
  if (!onPath('apt-get') || !isRoot) {
    console.warn(
      `Missing OS packages: ${missing.join(' ')}. Install them (apt-get install -y ${missing.join(' ')})` +
        (docker ? '.' : ' or start a Docker engine.'),
    );
    return;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // The packages would start system services on the ports the local stack uses (5432, 6379,
  // 5672): policy-rc.d answering 101 tells their install scripts not to.
  const policy = '/usr/sbin/policy-rc.d';
  const addPolicy = !fs.existsSync(policy);
  if (addPolicy) fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    run('apt-get', ['update', '-qq'], { env });
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  } finally {
    if (addPolicy) fs.rmSync(policy, { force: true });
  }
}

function ensurePnpm() {
  if (onPath('pnpm')) return;
  const pinned = JSON.parse(
    fs.readFileSync(path.join(root, 'package.json'), 'utf8'),
  ).packageManager;
  if (!globalNpmWritable()) {
    console.error(
      `pnpm is missing and npm's global folder is not writable by you: install it as root ` +
        `(npm install -g ${pinned}), then run this again.`,
    );
    process.exit(1);
  }
  run('npm', ['install', '-g', pinned]);
}

/** Whether `npm install -g` can write (as root, or with a prefix of one's own such as nvm's). */
function globalNpmWritable() {
  const prefix = execFileSync('npm', ['prefix', '--global'], { encoding: 'utf8' }).trim();
  return canWriteOrCreate(path.join(prefix, 'lib', 'node_modules'));
}

function installNodeModules() {
  ensurePnpm();
  // Every time, not only on a fresh clone: after a pull that changed the lockfile the modules
  // must follow it. When they already do, this takes a second or two and touches nothing.
  run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline']);
}

// The node modules first: they hold testcontainers, which tells whether Docker runs the servers.
installNodeModules();
await installOsPackages();

// Node with tsx's loader, not the tsx command: that one puts a process of its own in between,
// which kills the script when it does not acknowledge a relayed signal within 30 ms, as it may
// not while it stops what it started (a Ctrl-C reaches it twice), leaving the servers running.
const child = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(root, 'scripts', `${command}.ts`), ...args],
  { stdio: 'inherit', cwd: root },
);
// A terminal's Ctrl-C reaches the child too (same process group); a signal sent to this process
// alone is passed on, so the child always gets to stop what it started.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
