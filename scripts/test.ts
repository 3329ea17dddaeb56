/**
 * `npm test`: lint, typecheck, then every package's tests against one set of real servers started
 * here (each test file carves its own database, Redis db and vhost out of them).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { INFRA_ENV, startPostgres, startRabbitMq, startRedis } from '@happening/testkit';
import { summarizeTestRuns, type TestedPackage, type VitestReport } from './test-summary.ts';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const reportsDir = path.resolve('.data/test-reports');
fs.rmSync(reportsDir, { recursive: true, force: true });
fs.mkdirSync(reportsDir, { recursive: true });

let exitCode = await run('pnpm', ['exec', 'biome', 'check', '.']);
if (exitCode === 0) exitCode = await run('pnpm', ['exec', 'turbo', 'run', 'typecheck']);
if (exitCode === 0) exitCode = await run('pnpm', ['exec', 'tsc', '-p', 'scripts/tsconfig.json']);

if (exitCode === 0) {
  console.log('starting PostgreSQL, Redis and RabbitMQ for the test run…');
  const [postgres, redis, rabbit] = await Promise.all([
    startPostgres(),
    startRedis(),
    startRabbitMq(),
  ]);
  try {
    exitCode = await run(
      'pnpm',
      ['exec', 'turbo', 'run', 'test', '--concurrency=2', '--continue', ...process.argv.slice(2)],
      {
        [INFRA_ENV.postgres]: postgres.url,
        [INFRA_ENV.redis]: redis.url,
        [INFRA_ENV.amqp]: rabbit.url,
        [INFRA_ENV.rabbitMqManagement]: rabbit.managementUrl,
        HAPPENING_TEST_REPORTS_DIR: reportsDir,
      },
    );
  } finally {
    await Promise.all([postgres.stop(), redis.stop(), rabbit.stop()]);
  }
  summarize();
}
process.exit(exitCode);

/**
 * Prints the closing lines over every package's vitest JSON report. The packages come from turbo
 * (the same arguments, dry), so one that wrote no report is named rather than left out.
 */
function summarize(): void {
  const reports = new Map(
    fs
      .readdirSync(reportsDir)
      .map((file) => [
        path.basename(file, '.json'),
        JSON.parse(fs.readFileSync(path.join(reportsDir, file), 'utf8')) as VitestReport,
      ]),
  );
  console.log(`\n${summarizeTestRuns(testedPackages(), reports)}`);
}

/** The packages `turbo run test` runs with this script's arguments. */
function testedPackages(): TestedPackage[] {
  const dry = execFileSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'test', '--dry=json', ...process.argv.slice(2)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const { tasks } = JSON.parse(dry) as {
    tasks: { task: string; package: string; directory: string; command: string }[];
  };
  return tasks
    .filter((t) => t.task === 'test' && t.command !== '<NONEXISTENT>')
    .map((t) => ({ name: t.package, folder: path.basename(t.directory) }));
}
