/**
 * `npm start`: the platform on this machine. PostgreSQL, Redis, RabbitMQ, Keycloak (realm
 * `happening` imported) and a mail sink, as containers when a Docker engine answers and as local
 * processes with their data under `.data/` (or HAPPENING_DATA_DIR) otherwise; then every service
 * in SERVICES, then the demo data (through the gateway, once). Ctrl-C stops everything, in reverse
 * order.
 */
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerEngineAnswers } from '@happening/testkit';
import { type DemoSummary, seedDemoData } from './start/demo-seed.ts';
import { startDockerStack } from './start/docker-stack.ts';
import { startKeycloak } from './start/keycloak.local.ts';
import {
  assertServerPortFree,
  type StackDirs,
  startMailSink,
  startPostgres,
  startRabbitMq,
  startRedis,
} from './start/local-servers.ts';
import { SERVICES, type ServiceContext } from './start/services.config.ts';
import { startService } from './start/services.runner.ts';
import { PORTS, type StackUrls, stackUrls } from './start/stack.config.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const defaultDataDir = path.join(repoRoot, '.data');
// HAPPENING_DATA_DIR (relative to the repository) moves the data and logs, so that a second stack
// (on other ports) can run beside the usual one, as the test of npm start's stop does.
const dataDir = path.resolve(repoRoot, process.env.HAPPENING_DATA_DIR || defaultDataDir);
const dirs: StackDirs = { data: dataDir, logs: path.join(dataDir, 'logs') };
// RabbitMQ keys its database by the node name, and a machine's epmd takes one node per name: the
// usual folder keeps `happening-local`, another folder gets a name of its own.
const rabbitMqNode =
  dataDir === defaultDataDir
    ? 'happening-local'
    : `happening-local-${crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
const realmFile = path.join(repoRoot, 'infra', 'keycloak', 'happening-realm.json');
const stack = stackUrls();

interface Stoppable {
  stop(): Promise<void>;
  readonly child?: ChildProcess;
}

/** What is running, newest last; stopped from the end. */
const running: { name: string; stop(): Promise<void> }[] = [];
let stopping = false;

async function stopAll(exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('\nstopping…');
    for (const item of running.reverse()) {
      process.stdout.write(`  ${item.name}… `);
      await item.stop().catch((error: Error) => console.error(error.message));
      console.log('stopped');
    }
  }
  process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  // One Ctrl-C arrives several times (from the terminal, and relayed by npm, bootstrap and tsx):
  // only the first one counts, the others must not cut the orderly stop short.
  process.on(signal, () => {
    if (!stopping) void stopAll(0);
  });
}

async function step(name: string, start: () => Promise<Stoppable>): Promise<void> {
  if (stopping) return;
  const began = Date.now();
  process.stdout.write(`starting ${name}… `);
  const handle = await start();
  running.push({ name, stop: () => handle.stop() });
  // A server that dies later is reported at once instead of surfacing as a confusing failure.
  handle.child?.once('exit', (code, signal) => {
    if (!stopping)
      console.error(`\n${name} exited (${signal ?? code}); see ${shown(dirs.logs)}/${name}.log`);
  });
  console.log(`ready in ${((Date.now() - began) / 1000).toFixed(1)} s`);
}

try {
  if (await dockerEngineAnswers()) {
    console.log('a Docker engine answers: the stack runs from infra/docker-compose.yml');
    await step('postgres, redis, rabbitmq, keycloak, maildev (containers)', async () =>
      startDockerStack(path.join(repoRoot, 'infra', 'docker-compose.yml')),
    );
  } else {
    console.log(
      `no Docker engine: the stack runs as local processes (data and logs in ${shown(dirs.data)}/)`,
    );
    await step('postgres', () => startPostgres(dirs));
    await step('redis', () => startRedis(dirs));
    await step('rabbitmq', () => startRabbitMq(dirs, rabbitMqNode));
    await step('maildev', () => startMailSink(dirs, repoRoot));
    await step('keycloak', async () => {
      await assertServerPortFree('keycloak');
      return startKeycloak({
        baseDir: path.join(dirs.data, 'keycloak'),
        logDir: dirs.logs,
        realmFile,
        port: PORTS.keycloak,
        publicUrl: stack.keycloakUrl,
        smtpPort: PORTS.smtp,
        database: 'dev-file',
      });
    });
  }
  const ctx: ServiceContext = {
    stack,
    urlOf: (name) => `http://127.0.0.1:${SERVICES.find((s) => s.name === name)?.port}`,
    notificationSealingKey: keyFile(dirs.data, 'notification-sealing.key'),
    inviteLinkKey: keyFile(dirs.data, 'invite-link.key'),
  };
  for (const spec of SERVICES) {
    await step(spec.name, () => startService(spec, ctx, { repoRoot, logDir: dirs.logs }));
  }
  let demo: DemoSummary | undefined;
  if (!stopping && SERVICES.some((s) => s.name === 'gateway')) {
    process.stdout.write('demo data… ');
    try {
      demo = await seedDemoData({ gatewayUrl: ctx.urlOf('gateway'), tokenUrl: stack.oidcTokenUrl });
      console.log(demo.created ? 'seeded' : 'already there');
    } catch (error) {
      // The platform itself is up: keep it running and say what is missing.
      console.error(
        `not complete: ${(error as Error).message}\n` +
          `(see ${shown(dirs.logs)}/; the next start completes it)`,
      );
    }
  }
  printWelcome(stack, demo);
  // Containers hold no handle in this process: keep it alive until Ctrl-C.
  setInterval(() => {}, 1 << 30);
} catch (error) {
  console.error(`\n${(error as Error).message}`);
  await stopAll(1);
}

/** A folder as printed: relative to the repository when it is inside it. */
function shown(dir: string): string {
  const relative = path.relative(repoRoot, dir);
  return relative.startsWith('..') || path.isAbsolute(relative) ? dir : relative;
}

/**
 * A key (32 random bytes, base64) made once per data folder: what was sealed under it (invite
 * emails, invite links on their way to notification) must stay readable after a restart.
 */
function keyFile(dataDir: string, name: string): string {
  const file = path.join(dataDir, name);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(32).toString('base64'), { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

function printWelcome(urls: StackUrls, demo: DemoSummary | undefined): void {
  const gateway = SERVICES.find((s) => s.name === 'gateway');
  const tokenCurl = [
    `curl -s ${urls.oidcIssuer}/protocol/openid-connect/token \\`,
    '  -d grant_type=password -d client_id=happening-cli -d scope=openid \\',
    '  -d username=alice -d password=alice-password \\',
    `  | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token'`,
  ].join('\n');
  const lines = [
    '',
    'Happening is up. Ctrl-C stops everything.',
    '',
    ...(gateway
      ? [
          `  API (gateway)        http://127.0.0.1:${gateway.port}`,
          `  API reference        http://127.0.0.1:${gateway.port}/docs`,
        ]
      : []),
    ...SERVICES.filter((s) => s !== gateway).map(
      (s) => `  ${s.name.padEnd(20)} http://127.0.0.1:${s.port}`,
    ),
    `  Keycloak admin       ${urls.keycloakUrl}/admin/  (admin / admin)`,
    `  OIDC issuer          ${urls.oidcIssuer}  (audience ${urls.oidcAudience})`,
    `  Mail sink            ${urls.mailWebUrl}  (SMTP ${urls.smtpHost}:${urls.smtpPort})`,
    `  RabbitMQ management  ${urls.rabbitMqManagementUrl}  (guest / guest)`,
    `  PostgreSQL           ${urls.postgresUrl}`,
    `  Redis                ${urls.redisUrl}`,
    `  AMQP                 ${urls.amqpUrl}`,
    `  Logs                 ${shown(dirs.logs)}/`,
    '',
    ...(demo
      ? [
          `Demo organization "Happening Demo" (${demo.orgId}): alice orgAdmin, bob organizer,`,
          'carol and dave users; events:',
          ...demo.events.map((e) => `  ${e.name}  ${e.id}`),
          '',
        ]
      : []),
    'A token for alice (demo users: alice, bob, carol, dave; password <name>-password):',
    '',
    `TOKEN=$(${tokenCurl})`,
    '',
    'A first call with it, the published events:',
    '',
    gateway
      ? `curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:${gateway.port}/v1/events`
      : `curl -H "Authorization: Bearer $TOKEN" ${urls.oidcIssuer}/protocol/openid-connect/userinfo`,
    '',
  ];
  console.log(lines.join('\n'));
}
