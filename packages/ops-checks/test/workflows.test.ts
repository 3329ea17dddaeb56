import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fromRoot } from '../src/repo.paths.ts';

interface Job {
  name?: string;
  services?: Record<string, { image: string }>;
  env?: Record<string, string>;
  strategy?: { matrix?: { include?: { service: string }[]; node?: string[] } };
  steps: { uses?: string; run?: string; with?: Record<string, string> }[];
}

interface Workflow {
  on: Record<string, unknown>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

function workflow(file: string): Workflow {
  return parse(fs.readFileSync(fromRoot('.github', 'workflows', file), 'utf8'), {
    uniqueKeys: true,
  }) as Workflow;
}

const runs = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');

describe('ci.yml', () => {
  const ci = workflow('ci.yml');

  it('runs on pull requests and on main', () => {
    expect(ci.on).toHaveProperty('pull_request');
    expect(ci.on.push).toEqual({ branches: ['main'] });
  });

  it('has lint, typecheck and test jobs on a frozen install', () => {
    expect(Object.keys(ci.jobs).sort()).toEqual(['lint', 'test', 'typecheck']);
    for (const job of Object.values(ci.jobs))
      expect(runs(job)).toContain('pnpm install --frozen-lockfile');
    expect(runs(ci.jobs.lint!)).toMatch(/biome (ci|check)/);
    expect(runs(ci.jobs.typecheck!)).toMatch(/turbo run typecheck/);
    expect(runs(ci.jobs.test!)).toMatch(/turbo run test/);
  });

  it('tests against Postgres, Redis and RabbitMQ service containers named to testkit', () => {
    const test = ci.jobs.test!;
    expect(Object.keys(test.services ?? {}).sort()).toEqual(['postgres', 'rabbitmq', 'redis']);
    expect(test.services?.rabbitmq?.image).toMatch(/management/);
    const infraSource = fs.readFileSync(fromRoot('packages', 'testkit', 'src', 'infra.ts'), 'utf8');
    const variables = [...infraSource.matchAll(/'(HAPPENING_TEST_[A-Z_]+)'/g)].map((m) => m[1]!);
    expect(variables.length).toBeGreaterThan(0);
    for (const variable of variables) expect(test.env, variable).toHaveProperty(variable);
  });
});

/** The major version of Node the images run (`ARG NODE_VERSION` of the service Dockerfile). */
function imageNodeMajor(): string {
  const dockerfile = fs.readFileSync(fromRoot('docker', 'service.Dockerfile'), 'utf8');
  const version = /^ARG NODE_VERSION=(\d+)/m.exec(dockerfile)?.[1];
  if (!version) throw new Error('service.Dockerfile declares no NODE_VERSION');
  return version;
}

describe('Node versions', () => {
  it("test on the images' Node and on the oldest the README and package.json accept", () => {
    const ci = workflow('ci.yml');
    const tested = ci.jobs.test!.strategy?.matrix?.node ?? [];
    const oldest = /^>=(\d+)$/.exec(
      JSON.parse(fs.readFileSync(fromRoot('package.json'), 'utf8')).engines.node,
    )?.[1];
    expect(fs.readFileSync(fromRoot('README.md'), 'utf8')).toContain(`Node.js ${oldest} or newer`);
    expect([...tested].sort()).toEqual([imageNodeMajor(), oldest].sort());
    const setup = ci.jobs.test!.steps.find((s) => s.uses?.startsWith('actions/setup-node'));
    expect(setup?.with?.['node-version']).toMatch(/^\$\{\{ matrix\.node \}\}$/);
  });

  it("run every other job on the images' Node", () => {
    const ci = workflow('ci.yml');
    expect(ci.env?.NODE_VERSION).toBe(imageNodeMajor());
    for (const [file, parsed] of [
      ['ci.yml', ci],
      ['chart.yml', workflow('chart.yml')],
      ['images.yml', workflow('images.yml')],
    ] as const) {
      for (const [name, job] of Object.entries(parsed.jobs)) {
        if (file === 'ci.yml' && name === 'test') continue;
        for (const step of job.steps.filter((s) => s.uses?.startsWith('actions/setup-node'))) {
          const version = step.with?.['node-version'];
          const fromEnv = /^\$\{\{ env\.NODE_VERSION \}\}$/.test(version ?? '');
          const declared = parsed.env?.NODE_VERSION;
          expect(fromEnv ? declared : version, `${file} ${name}`).toBe(imageNodeMajor());
        }
      }
    }
  });
});

describe('images.yml', () => {
  const images = workflow('images.yml');

  it('builds every service image from docker/service.Dockerfile', () => {
    const build = images.jobs.build!;
    const services = fs.readdirSync(fromRoot('services')).sort();
    expect(build.strategy?.matrix?.include?.map((m) => m.service).sort()).toEqual(services);
    const step = build.steps.find((s) => s.uses?.startsWith('docker/build-push-action'));
    expect(step?.with?.file).toBe('docker/service.Dockerfile');
    expect(step?.with?.['build-args']).toMatch(/SERVICE=\$\{\{ matrix\.service \}\}/);
  });
});

describe('chart.yml', () => {
  const chart = workflow('chart.yml');

  it('lints and renders the chart and runs the ops checks', () => {
    const job = chart.jobs.chart!;
    expect(runs(job)).toContain('helm lint --strict k8s/happening');
    expect(runs(job)).toContain('helm template happening k8s/happening');
    expect(runs(job)).toContain('pnpm --filter @happening/ops-checks test');
  });
});
