import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  chartWithoutDependencies,
  ensureHelm,
  lintChart,
  type Manifest,
  renderChart,
} from '../src/helm.runner.ts';
import { findUnknownFields } from '../src/manifest.fields.ts';
import { validateAgainstSchemas } from '../src/manifest.validator.ts';
import { checkPodSecurity } from '../src/pod-security.rules.ts';
import { chartDir } from '../src/repo.paths.ts';

const SERVICES = ['identity-org', 'catalog', 'booking', 'notification', 'gateway'];
const MIGRATING = SERVICES.filter((s) => s !== 'gateway');
const productionValues = path.join(chartDir, 'values-production.yaml');

let helm: string;
let chart: { dir: string; cleanup(): void };

beforeAll(() => {
  // Builds helm from the Go module proxy on a machine without it (a few minutes).
  helm = ensureHelm();
  chart = chartWithoutDependencies();
}, 900_000);

afterAll(() => chart?.cleanup());

function byKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

function named(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered`);
  return found;
}

function assertValid(manifests: Manifest[]): void {
  expect(validateAgainstSchemas(manifests)).toEqual([]);
  expect(findUnknownFields(manifests)).toEqual([]);
  expect(checkPodSecurity(manifests)).toEqual([]);
}

describe.each([
  { label: 'default values', values: [] as string[] },
  { label: 'values-production.yaml', values: [productionValues] },
])('chart with $label', ({ values }) => {
  let manifests: Manifest[];

  beforeAll(() => {
    manifests = renderChart(helm, chart.dir, values);
  });

  it('passes helm lint --strict', () => {
    expect(() => lintChart(helm, chart.dir, values)).not.toThrow();
  });

  it('renders only valid Kubernetes objects with hardened pods', () => {
    assertValid(manifests);
  });

  it('renders a Deployment, Service, HPA, PDB and ConfigMap per service', () => {
    for (const service of SERVICES) {
      const name = `happening-${service}`;
      const deployment = named(manifests, 'Deployment', name) as Manifest & {
        spec: { template: { spec: { containers: { image: string; envFrom: unknown[] }[] } } };
      };
      expect(deployment.spec.template.spec.containers[0]!.image).toMatch(
        new RegExp(`/${service}:`),
      );
      named(manifests, 'Service', name);
      named(manifests, 'HorizontalPodAutoscaler', name);
      named(manifests, 'PodDisruptionBudget', name);
      const config = named(manifests, 'ConfigMap', name) as Manifest & {
        data: Record<string, string>;
      };
      expect(config.data).toMatchObject({ HOST: '0.0.0.0', RUN_MIGRATIONS: 'false' });
    }
  });

  it('migrates every service with a database in a pre-upgrade hook Job', () => {
    const jobs = byKind(manifests, 'Job');
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(
      MIGRATING.map((s) => `happening-${s}-migrate`).sort(),
    );
    for (const job of jobs) {
      expect(job.metadata.annotations?.['helm.sh/hook']).toContain('pre-upgrade');
      const container = (
        job.spec as { template: { spec: { containers: { command: string[] }[] } } }
      ).template.spec.containers[0]!;
      expect(container.command).toEqual(['node', 'src/migrate.ts']);
    }
  });

  it('points the gateway at every service and the Ingress at the gateway', () => {
    const config = named(manifests, 'ConfigMap', 'happening-gateway') as Manifest & {
      data: Record<string, string>;
    };
    expect(config.data.BOOKING_URL).toBe('http://happening-booking:3003');
    const ingress = byKind(manifests, 'Ingress')[0] as Manifest & {
      spec: { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] };
    };
    expect(ingress.spec.rules[0]!.http.paths[0]!.backend.service.name).toBe('happening-gateway');
  });
});

describe('production values', () => {
  let manifests: Manifest[];

  beforeAll(() => {
    manifests = renderChart(helm, chart.dir, [productionValues]);
  });

  it('use the existing secret and create none with credentials', () => {
    expect(byKind(manifests, 'Secret')).toEqual([]);
    expect(JSON.stringify(named(manifests, 'Deployment', 'happening-booking'))).toContain(
      '"name":"happening-credentials"',
    );
  });

  it('render a ServiceMonitor and a NetworkPolicy per service', () => {
    expect(byKind(manifests, 'ServiceMonitor')).toHaveLength(1);
    expect(byKind(manifests, 'NetworkPolicy')).toHaveLength(SERVICES.length);
  });
});

describe('values schema and dependencies', () => {
  it('rejects invalid and weakened values', () => {
    expect(() => renderChart(helm, chart.dir, [], ['--set', 'services.booking.port=http'])).toThrow(
      /port/,
    );
    expect(() =>
      renderChart(helm, chart.dir, [], ['--set', 'securityContext.readOnlyRootFilesystem=false']),
    ).toThrow(/readOnlyRootFilesystem/);
    expect(() =>
      renderChart(helm, chart.dir, [], ['--set', 'services.booking.replicas=3']),
    ).toThrow(/replicas/);
  });

  it('renders fixed replicas without autoscaling', () => {
    const manifests = renderChart(
      helm,
      chart.dir,
      [],
      [
        '--set',
        'services.catalog.autoscaling.enabled=false',
        '--set',
        'services.catalog.replicaCount=3',
      ],
    );
    assertValid(manifests);
    expect(
      (named(manifests, 'Deployment', 'happening-catalog').spec as { replicas: number }).replicas,
    ).toBe(3);
    expect(byKind(manifests, 'HorizontalPodAutoscaler')).toHaveLength(SERVICES.length - 1);
  });

  it('declares Postgres, Redis, RabbitMQ and Keycloak as optional dependencies, off by default', () => {
    const chartYaml = parse(fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as {
      dependencies: { name: string; condition: string }[];
    };
    const values = parse(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as Record<
      string,
      { enabled?: boolean }
    >;
    expect(chartYaml.dependencies.map((d) => d.name).sort()).toEqual(
      ['keycloak', 'postgresql', 'rabbitmq', 'redis'].sort(),
    );
    for (const dependency of chartYaml.dependencies) {
      expect(dependency.condition).toBe(`${dependency.name}.enabled`);
      expect(values[dependency.name]?.enabled).toBe(false);
    }
  });
});
