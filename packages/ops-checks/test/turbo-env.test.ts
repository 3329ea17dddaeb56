import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromRoot } from '../src/repo.paths.ts';

/**
 * What `npm test`'s tasks read from the caller's environment: Keycloak's Java and Maven
 * (scripts/start/keycloak.local.ts), where ensure-helm.sh looks for and builds helm, and the test
 * log level. Turbo's strict env mode drops any variable its config does not name.
 */
const CALLER_ENV = {
  JAVA_HOME: '/opt/jdk-21',
  MAVEN_OPTS: '-Xmx512m',
  GOPATH: '/opt/go',
  GOBIN: '/opt/go/bin',
  HELM_VERSION: 'v3.22.0',
  TEST_LOG_LEVEL: 'debug',
};

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'turbo-env-'));

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs the repo's turbo under the repo's turbo.json over a one-package workspace with `env` set,
 * and returns the environment its test task saw.
 */
function envSeenByTestTask(env: Record<string, string>): Record<string, string> {
  const write = (file: string, content: unknown) => {
    fs.mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true });
    fs.writeFileSync(path.join(scratch, file), JSON.stringify(content));
  };
  write('package.json', {
    name: 'scratch',
    private: true,
    packageManager: 'npm@10.0.0',
    workspaces: ['packages/*'],
  });
  write('packages/probe/package.json', {
    name: 'probe',
    scripts: {
      test: `node -e "require('fs').writeFileSync('seen.json', JSON.stringify(process.env))"`,
    },
  });
  fs.copyFileSync(fromRoot('turbo.json'), path.join(scratch, 'turbo.json'));
  execFileSync(
    fromRoot('node_modules', '.bin', 'turbo'),
    ['run', 'test', '--force', `--cache-dir=${path.join(scratch, '.turbo-cache')}`],
    { cwd: scratch, env: { ...process.env, ...env, TURBO_TELEMETRY_DISABLED: '1' }, stdio: 'pipe' },
  );
  return JSON.parse(fs.readFileSync(path.join(scratch, 'packages', 'probe', 'seen.json'), 'utf8'));
}

describe('turbo.json', () => {
  it("hands the test tasks the caller's JAVA_HOME, Maven, Go, helm and log-level settings", () => {
    const seen = envSeenByTestTask(CALLER_ENV);
    expect(Object.fromEntries(Object.keys(CALLER_ENV).map((name) => [name, seen[name]]))).toEqual(
      CALLER_ENV,
    );
  });
});
