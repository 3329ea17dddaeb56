import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLOSE_GRACE_MS } from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  chartWithoutDependencies,
  ensureHelm,
  lintChart,
  type Manifest,
  renderChart,
  renderNotes,
} from '../src/helm.runner.ts';
import { findUnknownFields } from '../src/manifest.fields.ts';
import { validateAgainstSchemas } from '../src/manifest.validator.ts';
import { checkPodSecurity } from '../src/pod-security.rules.ts';
import { absentSelectors } from '../src/promql.metrics.ts';
import { alertRulesFile, chartDir, fromRoot } from '../src/repo.paths.ts';
import {
  configProblems,
  containerEnv,
  type EnvSchema,
  firstContainer,
  loadConfigSchema,
  loadShutdownBudget,
} from '../src/service-config.ts';

const SERVICES = ['identity-org', 'catalog', 'booking', 'notification', 'gateway'];
const MIGRATING = SERVICES.filter((s) => s !== 'gateway');
const productionValues = path.join(chartDir, 'values-production.yaml');
/**
 * The settings values.yaml leaves empty and an install against endpoints of its own must give
 * (the render fails without them): the base of the renders that used to take the defaults alone.
 */
const requiredValues = fileURLToPath(new URL('./fixtures/required-values.yaml', import.meta.url));

let helm: string;
let chart: { dir: string; cleanup(): void };
const configSchemas = new Map<string, EnvSchema>();
const migrateSchemas = new Map<string, EnvSchema>();
/** Each service's longest time from SIGTERM to exit, as its own code computes it. */
const shutdownBudgets = new Map<string, Awaited<ReturnType<typeof loadShutdownBudget>>>();

beforeAll(async () => {
  // Builds helm from the Go module proxy on a machine without it (a few minutes).
  helm = await ensureHelm();
  chart = chartWithoutDependencies();
  for (const service of SERVICES) {
    configSchemas.set(service, await loadConfigSchema(service));
    shutdownBudgets.set(service, await loadShutdownBudget(service));
  }
  for (const service of MIGRATING) {
    migrateSchemas.set(service, await loadConfigSchema(service, { forMigrations: true }));
  }
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

interface PodTemplate {
  template: {
    spec: {
      serviceAccountName?: string;
      terminationGracePeriodSeconds?: number;
      containers: {
        image: string;
        lifecycle?: { preStop?: { exec?: { command: string[] } } };
      }[];
    };
  };
}

function podTemplate(manifest: Manifest): PodTemplate['template'] {
  return (manifest.spec as PodTemplate).template;
}

function annotation(manifest: Manifest, key: string): string | undefined {
  return manifest.metadata.annotations?.[key];
}

const hookWeight = (manifest: Manifest) => Number(annotation(manifest, 'helm.sh/hook-weight') ?? 0);

interface Termination {
  preStopSleepSeconds: number;
  shutdownSeconds: number;
  gracePeriodSeconds: number;
}

const chartValues = parse(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as {
  termination: Termination;
  services: Record<string, { termination?: Partial<Termination> }>;
};

/** A service's termination values: its own `services.<name>.termination` over the global ones. */
function terminationOf(service: string): Termination {
  return { ...chartValues.termination, ...chartValues.services[service]?.termination };
}

/** Bytes of a Kubernetes memory quantity (`512Mi`, `1G`, `1048576`). */
function bytes(quantity: string): number {
  const units: Record<string, number> = {
    '': 1,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
  };
  const [, amount, unit] = /^([0-9.]+)([a-zA-Z]*)$/.exec(quantity) ?? [];
  const factor = units[unit ?? ''];
  if (amount === undefined || factor === undefined) throw new Error(`unknown quantity ${quantity}`);
  return Number(amount) * factor;
}

function assertValid(manifests: Manifest[]): void {
  expect(validateAgainstSchemas(manifests)).toEqual([]);
  expect(findUnknownFields(manifests)).toEqual([]);
  expect(checkPodSecurity(manifests)).toEqual([]);
}

describe.each([
  { label: 'the required values', values: [requiredValues] },
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
      expect(config.data.HOST).toBe('0.0.0.0');
      // The migrations Job migrates every service with a database, so their pods do not.
      expect(config.data.RUN_MIGRATIONS).toBe(MIGRATING.includes(service) ? 'false' : undefined);
    }
  });

  it('starts each service with its Node flags: booking with a bigger young generation', () => {
    for (const service of SERVICES) {
      const container = firstContainer(named(manifests, 'Deployment', `happening-${service}`));
      expect(container.command).toEqual(
        service === 'booking'
          ? ['node', '--max-semi-space-size=128', 'src/main.ts']
          : ['node', 'src/main.ts'],
      );
    }
  });

  it("requests booking's peak memory in a sale, under its limit", () => {
    // ~470 MB resident under the flash-sale benchmark with its nodeArgs (values.yaml): a pod over
    // its request is the first evicted when its node runs short of memory.
    const peakBytes = 470e6;
    const { resources } = podTemplate(named(manifests, 'Deployment', 'happening-booking')).spec
      .containers[0] as unknown as {
      resources: { requests: { memory: string }; limits: { memory: string } };
    };
    expect(bytes(resources.requests.memory)).toBeGreaterThanOrEqual(peakBytes);
    expect(bytes(resources.limits.memory)).toBeGreaterThanOrEqual(bytes(resources.requests.memory));
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

  it('runs hook Jobs under no ServiceAccount or one an earlier hook of the same phase creates', () => {
    // A pre-install hook runs before the release's own objects exist (its ServiceAccount too).
    for (const job of byKind(manifests, 'Job')) {
      const account = podTemplate(job).spec.serviceAccountName;
      if (account === undefined || account === 'default') continue;
      const creator = manifests.find(
        (m) => m.kind === 'ServiceAccount' && m.metadata.name === account,
      );
      const where = `${job.metadata.name} runs as ${account}`;
      expect(creator && annotation(creator, 'helm.sh/hook'), where).toBe(
        annotation(job, 'helm.sh/hook'),
      );
      expect(hookWeight(creator!), where).toBeLessThan(hookWeight(job));
    }
  });

  it('pauses each pod before SIGTERM and gives it time for the pause and its whole shutdown', () => {
    const { preStopSleepSeconds } = chartValues.termination;
    expect(preStopSleepSeconds).toBeGreaterThan(0);
    for (const service of SERVICES) {
      const deployment = named(manifests, 'Deployment', `happening-${service}`);
      const pod = podTemplate(deployment).spec;
      expect(pod.containers[0]!.lifecycle?.preStop?.exec?.command).toEqual([
        'sleep',
        String(preStopSleepSeconds),
      ]);
      // What the service's own code allows itself after SIGTERM, with the env the chart gives it.
      const budgetMs = shutdownBudgets.get(service)!(
        containerEnv(manifests, firstContainer(deployment)).values,
      );
      expect(terminationOf(service).shutdownSeconds * 1000, service).toBeGreaterThanOrEqual(
        budgetMs,
      );
      expect(pod.terminationGracePeriodSeconds! * 1000, service).toBeGreaterThan(
        preStopSleepSeconds * 1000 + budgetMs,
      );
    }
  });

  it('waits 150 s for notification, whose slowest send takes 130 s, and 30 s for the others', () => {
    const grace = (service: string) =>
      podTemplate(named(manifests, 'Deployment', `happening-${service}`)).spec
        .terminationGracePeriodSeconds;
    expect(grace('notification')).toBe(150);
    for (const service of SERVICES.filter((s) => s !== 'notification'))
      expect(grace(service), service).toBe(30);
  });

  it("sets every variable each service's config requires, with values it accepts", () => {
    const problems: string[] = [];
    for (const service of SERVICES) {
      const workloads: [Manifest, EnvSchema][] = [
        [named(manifests, 'Deployment', `happening-${service}`), configSchemas.get(service)!],
      ];
      // A migration Job runs src/migrate.ts, which reads its own (smaller) environment.
      if (MIGRATING.includes(service))
        workloads.push([
          named(manifests, 'Job', `happening-${service}-migrate`),
          migrateSchemas.get(service)!,
        ]);
      for (const [workload, schema] of workloads) {
        const env = containerEnv(manifests, firstContainer(workload));
        for (const problem of configProblems(schema, env))
          problems.push(`${workload.kind}/${workload.metadata.name}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('points the gateway at every service and the Ingress at the gateway', () => {
    const gateway = containerEnv(
      manifests,
      firstContainer(named(manifests, 'Deployment', 'happening-gateway')),
    );
    expect(gateway.values).toMatchObject({
      IDENTITY_ORG_URL: 'http://happening-identity-org:3001',
      CATALOG_URL: 'http://happening-catalog:3002',
      BOOKING_URL: 'http://happening-booking:3003',
      NOTIFICATION_URL: 'http://happening-notification:3004',
      OIDC_AUDIENCE: 'happening-api',
    });
    expect(gateway.values.OIDC_ISSUER).toMatch(/^https:\/\/.+\/realms\/happening$/);
    expect(Object.keys(gateway.values)).toContain('REDIS_URL');
    const ingress = byKind(manifests, 'Ingress')[0] as Manifest & {
      spec: {
        rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[];
      };
    };
    const paths = ingress.spec.rules[0]!.http.paths;
    expect(paths.map((p) => p.backend.service.name)).toEqual(paths.map(() => 'happening-gateway'));
    // The API and its documents only: the gateway's /metrics and probes stay in the cluster.
    expect(paths.map((p) => p.path)).toEqual(['/v1', '/openapi.json', '/docs']);
  });
});

describe('notes after an install', () => {
  it("name every enabled service and port-forward to the gateway's own port", () => {
    const notes = renderNotes(
      helm,
      [requiredValues],
      [
        '--set',
        'services.gateway.port=9090',
        '--set',
        'services.notification.enabled=false',
        '--set',
        'ingress.enabled=false',
      ],
    );
    expect(notes).toContain('port-forward svc/happening-gateway 8080:9090');
    expect(notes).toContain('- gateway: happening-gateway:9090');
    expect(notes).toContain('- booking: happening-booking:3003');
    expect(notes).not.toContain('notification');
  });
});

describe('finding helm', () => {
  it('leaves the event loop free while it looks (a build takes minutes)', async () => {
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    expect(await ensureHelm()).toBe(helm);
    expect(turned).toBe(true);
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

  it('read the notification keys from the existing secret, the provider keys as required', () => {
    const container = firstContainer(named(manifests, 'Deployment', 'happening-notification'));
    const refs = Object.fromEntries(
      (container.env ?? []).map((e) => [e.name, e.valueFrom?.secretKeyRef]),
    );
    expect(refs.NOTIFICATION_SEALING_KEY).toEqual({
      name: 'happening-credentials',
      key: 'notification-sealing-key',
    });
    expect(refs.INVITE_LINK_KEY).toEqual({ name: 'happening-credentials', key: 'invite-link-key' });
    // values-production.yaml configures both providers, so their keys must exist.
    expect(refs.SMS_API_KEY).not.toHaveProperty('optional');
    expect(refs.PUSH_API_KEY).not.toHaveProperty('optional');
  });

  it("spread each service's own replicas across zones, not only across nodes", () => {
    for (const deployment of byKind(manifests, 'Deployment')) {
      const { selector, template } = deployment.spec as {
        selector: { matchLabels: Record<string, string> };
        template: { spec: { topologySpreadConstraints?: Record<string, unknown>[] } };
      };
      expect(template.spec.topologySpreadConstraints, deployment.metadata.name).toContainEqual({
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selector.matchLabels },
      });
    }
  });

  it('render a ServiceMonitor and a NetworkPolicy per service', () => {
    expect(byKind(manifests, 'ServiceMonitor')).toHaveLength(1);
    expect(byKind(manifests, 'NetworkPolicy')).toHaveLength(SERVICES.length);
  });

  it('render the alert rules of the Compose Prometheus as a PrometheusRule', () => {
    const [rule, ...others] = byKind(manifests, 'PrometheusRule');
    expect(others).toEqual([]);
    const rules = parse(fs.readFileSync(alertRulesFile, 'utf8')) as { groups: unknown[] };
    expect((rule?.spec as { groups: unknown[] }).groups).toEqual(rules.groups);
  });
});

/** EVENT_CONSUMERS of each Deployment, by service, as the service parses it. */
function eventConsumersByService(manifests: Manifest[]): Record<string, string[] | undefined> {
  return Object.fromEntries(
    byKind(manifests, 'Deployment').map((deployment) => {
      const service = deployment.metadata.name.replace(/^happening-/, '');
      const value = containerEnv(manifests, firstContainer(deployment)).values.EVENT_CONSUMERS;
      const field = configSchemas.get(service)!.shape.EVENT_CONSUMERS as
        | { safeParse(value: unknown): { data?: string[] } }
        | undefined;
      return [service, value === undefined ? undefined : field?.safeParse(value).data?.sort()];
    }),
  );
}

describe('event consumers', () => {
  // What a service declares queues for when EVENT_CONSUMERS is unset: every consumer there is.
  const allConsumers = () =>
    (
      configSchemas.get('catalog')!.shape.EVENT_CONSUMERS as {
        safeParse(value: unknown): { data?: string[] };
      }
    )
      .safeParse(undefined)
      .data!.sort();

  it('are every consuming service by default, given to every service that declares queues', () => {
    expect(allConsumers()).toEqual(['booking', 'catalog', 'notification']);
    expect(eventConsumersByService(renderChart(helm, chart.dir, [requiredValues]))).toEqual({
      'identity-org': allConsumers(),
      catalog: allConsumers(),
      booking: allConsumers(),
      notification: allConsumers(),
      gateway: undefined,
    });
  });

  it('leave out a disabled service, so no queue of it is declared that nothing consumes', () => {
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set', 'services.notification.enabled=false'],
    );
    assertValid(manifests);
    expect(eventConsumersByService(manifests)).toEqual({
      'identity-org': ['booking', 'catalog'],
      catalog: ['booking', 'catalog'],
      booking: ['booking', 'catalog'],
      gateway: undefined,
    });
  });
});

describe('migration hooks', () => {
  it('delete the Secret copy they read once every hook succeeded', () => {
    const copy = named(
      renderChart(helm, chart.dir, [requiredValues]),
      'Secret',
      'happening-migrations',
    );
    expect(annotation(copy, 'helm.sh/hook-delete-policy')?.split(',').sort()).toEqual([
      'before-hook-creation',
      'hook-succeeded',
    ]);
  });

  it('leave migrating to the pods of a service the Job does not migrate', () => {
    const runMigrations = (manifests: Manifest[]) =>
      Object.fromEntries(
        MIGRATING.map((service) => [
          service,
          containerEnv(
            manifests,
            firstContainer(named(manifests, 'Deployment', `happening-${service}`)),
          ).values.RUN_MIGRATIONS,
        ]),
      );
    const withoutJobs = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set', 'migrations.enabled=false'],
    );
    expect(byKind(withoutJobs, 'Job')).toEqual([]);
    expect(runMigrations(withoutJobs)).toEqual(
      Object.fromEntries(MIGRATING.map((s) => [s, 'true'])),
    );

    const catalogOff = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set', 'services.catalog.migrations=false'],
    );
    expect(byKind(catalogOff, 'Job').map((job) => job.metadata.name)).not.toContain(
      'happening-catalog-migrate',
    );
    expect(runMigrations(catalogOff)).toEqual(
      Object.fromEntries(MIGRATING.map((s) => [s, s === 'catalog' ? 'true' : 'false'])),
    );
  });

  it("are placed on the services' nodes: their nodeSelector, affinity and tolerations", () => {
    // On tainted or dedicated nodes a hook pod without them stays Pending and fails the install.
    const placement = {
      nodeSelector: { pool: 'happening' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'pool', operator: 'In', values: ['happening'] }] },
            ],
          },
        },
      },
      tolerations: [
        { key: 'dedicated', operator: 'Equal', value: 'happening', effect: 'NoSchedule' },
      ],
    };
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      Object.entries(placement).flatMap(([key, value]) => [
        '--set-json',
        `${key}=${JSON.stringify(value)}`,
      ]),
    );
    assertValid(manifests);
    const jobs = byKind(manifests, 'Job');
    expect(jobs).toHaveLength(MIGRATING.length);
    for (const workload of [...byKind(manifests, 'Deployment'), ...jobs]) {
      const { nodeSelector, affinity, tolerations } = podTemplate(workload).spec as Record<
        string,
        unknown
      >;
      expect({ nodeSelector, affinity, tolerations }, workload.metadata.name).toEqual(placement);
    }
  });

  it('run under an existing ServiceAccount when the chart creates none', () => {
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set', 'serviceAccount.create=false', '--set', 'serviceAccount.name=happening-ops'],
    );
    for (const job of byKind(manifests, 'Job'))
      expect(podTemplate(job).spec.serviceAccountName).toBe('happening-ops');
  });
});

describe('alert rules', () => {
  it('are not rendered unless enabled (the PrometheusRule kind needs the Prometheus Operator)', () => {
    expect(byKind(renderChart(helm, chart.dir, [requiredValues]), 'PrometheusRule')).toEqual([]);
  });

  it('watch only enabled services for absence; every other rule as in the rules file', () => {
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      [
        '--set',
        'metrics.prometheusRule.enabled=true',
        '--set',
        'services.notification.enabled=false',
      ],
    );
    assertValid(manifests);
    type Groups = { name: string; rules: { alert?: string; expr: string }[] }[];
    const rendered = (byKind(manifests, 'PrometheusRule')[0]?.spec as { groups: Groups }).groups;
    const file = (parse(fs.readFileSync(alertRulesFile, 'utf8')) as { groups: Groups }).groups;
    const absent = rendered
      .flatMap((g) => g.rules)
      .find((r) => r.alert === 'HappeningServiceAbsent');
    expect(absentSelectors(absent!.expr).sort()).toEqual(
      SERVICES.filter((s) => s !== 'notification')
        .map((s) => `up{service="${s}"}`)
        .sort(),
    );
    const withoutAbsent = (groups: Groups) =>
      groups.map((g) => ({ ...g, rules: g.rules.filter((r) => r !== absent) }));
    const fileAbsent = file
      .flatMap((g) => g.rules)
      .find((r) => r.alert === 'HappeningServiceAbsent');
    expect(withoutAbsent(rendered)).toEqual(
      file.map((g) => ({ ...g, rules: g.rules.filter((r) => r !== fileAbsent) })),
    );
    expect({ ...absent, expr: undefined }).toEqual({ ...fileAbsent, expr: undefined });
  });
});

describe('RabbitMQ ServiceMonitor', () => {
  interface MonitorSpec {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: { port: string; path: string }[];
  }
  const rabbitmqMonitor = (manifests: Manifest[]) =>
    named(manifests, 'ServiceMonitor', 'happening-rabbitmq').spec as MonitorSpec;

  it('is not rendered unless enabled', () => {
    for (const values of [[requiredValues], [productionValues]]) {
      const monitors = byKind(renderChart(helm, chart.dir, values), 'ServiceMonitor');
      expect(monitors.map((m) => m.metadata.name)).not.toContain('happening-rabbitmq');
    }
  });

  it("scrapes the per-object metrics, which carry the alerts' queue label, of a given broker", () => {
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      [
        '--set',
        'metrics.rabbitmqServiceMonitor.enabled=true',
        '--set',
        'metrics.rabbitmqServiceMonitor.selector.app=rabbitmq',
        '--set',
        'metrics.rabbitmqServiceMonitor.namespace=broker',
        '--set',
        'metrics.rabbitmqServiceMonitor.port=prometheus',
      ],
    );
    assertValid(manifests);
    expect(rabbitmqMonitor(manifests)).toMatchObject({
      selector: { matchLabels: { app: 'rabbitmq' } },
      namespaceSelector: { matchNames: ['broker'] },
      endpoints: [{ port: 'prometheus', path: '/metrics/per-object' }],
    });
  });

  it("selects the in-chart RabbitMQ's Service, and only with its metrics on", () => {
    const inChart = [
      '--set',
      'metrics.rabbitmqServiceMonitor.enabled=true',
      '--set',
      'rabbitmq.enabled=true',
      '--set',
      'rabbitmq.auth.password=secret',
    ];
    expect(() => renderChart(helm, chart.dir, [requiredValues], inChart)).toThrow(
      /rabbitmq.metrics.enabled/,
    );
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      [...inChart, '--set', 'rabbitmq.metrics.enabled=true'],
    );
    expect(rabbitmqMonitor(manifests)).toMatchObject({
      selector: {
        matchLabels: {
          'app.kubernetes.io/name': 'rabbitmq',
          'app.kubernetes.io/instance': 'happening',
        },
      },
      endpoints: [{ port: 'metrics', path: '/metrics/per-object' }],
    });
  });

  it('refuses to guess the Service of a broker outside the chart', () => {
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set', 'metrics.rabbitmqServiceMonitor.enabled=true'],
      ),
    ).toThrow(/metrics.rabbitmqServiceMonitor.selector is required/);
  });
});

describe('pod termination', () => {
  // service-kit gives a service its drain (SHUTDOWN_DRAIN_MS) plus CLOSE_GRACE_MS, then exits.
  const closeGraceMs = CLOSE_GRACE_MS;

  it("budgets each service's drain and close after SIGTERM, notification's slowest send too", () => {
    for (const service of SERVICES) {
      const drain = configSchemas.get(service)!.shape.SHUTDOWN_DRAIN_MS as
        | { safeParse(value: unknown): { data?: number } }
        | undefined;
      const drainMs = drain?.safeParse(undefined).data ?? 0;
      const budgetMs = shutdownBudgets.get(service)!({});
      expect(budgetMs, service).toBeGreaterThanOrEqual(drainMs + closeGraceMs);
      expect(terminationOf(service).shutdownSeconds * 1000, service).toBeGreaterThanOrEqual(
        budgetMs,
      );
    }
    // Every other service keeps the global budget.
    expect(
      Object.keys(chartValues.services).filter(
        (s) => terminationOf(s).shutdownSeconds !== chartValues.termination.shutdownSeconds,
      ),
    ).toEqual(['notification']);
  });

  describe("notification's slowest send", () => {
    // shutdownGraceMs (services/notification/src/config.ts) with these variables.
    const budgetMs = (env: Record<string, string>) => shutdownBudgets.get('notification')!(env);
    const render = (shutdownSeconds: number, env: Record<string, number>) => () =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        [
          '--set',
          `services.notification.termination.shutdownSeconds=${shutdownSeconds}`,
          '--set',
          `services.notification.termination.gracePeriodSeconds=${shutdownSeconds + 10}`,
          ...Object.entries(env).flatMap(([name, value]) => [
            '--set',
            `services.notification.env.${name}=${value}`,
          ]),
        ],
      );

    it('is counted as the service counts it: the longest PROVIDER_TIMEOUT_MS that fits renders', () => {
      // The longest provider timeout whose budget fits in 30 s, found with the service's function.
      let fits = 1;
      while (budgetMs({ PROVIDER_TIMEOUT_MS: String(fits + 1) }) <= 30_000) fits += 1;
      expect(fits).toBeGreaterThan(1);
      expect(render(30, { PROVIDER_TIMEOUT_MS: fits })().length).toBeGreaterThan(0);
      expect(render(30, { PROVIDER_TIMEOUT_MS: fits + 1 })).toThrow(
        new RegExp(`services\\.notification\\.env\\.PROVIDER_TIMEOUT_MS \\(${fits + 1}\\)`),
      );
      // A drain longer than the slowest send is the budget instead.
      expect(budgetMs({ PROVIDER_TIMEOUT_MS: '1000', SHUTDOWN_DRAIN_MS: '20000' })).toBe(30_000);
      expect(
        render(30, { PROVIDER_TIMEOUT_MS: 1000, SHUTDOWN_DRAIN_MS: 20_000 })().length,
      ).toBeGreaterThan(0);
    });

    it('refuses a shutdownSeconds short of the default PROVIDER_TIMEOUT_MS, naming it', () => {
      const seconds = Math.ceil(budgetMs({}) / 1000);
      expect(render(seconds, {})().length).toBeGreaterThan(0);
      expect(render(seconds - 1, {})).toThrow(
        /services\.notification\.env\.PROVIDER_TIMEOUT_MS \(10000\).*services\.notification\.termination\.shutdownSeconds/,
      );
    });

    it('refuses a PROVIDER_TIMEOUT_MS too long for the default shutdownSeconds, naming it', () => {
      const { shutdownSeconds } = terminationOf('notification');
      let timeoutMs = 10_000;
      while (budgetMs({ PROVIDER_TIMEOUT_MS: String(timeoutMs) }) <= shutdownSeconds * 1000)
        timeoutMs += 1_000;
      expect(() =>
        renderChart(
          helm,
          chart.dir,
          [requiredValues],
          ['--set', `services.notification.env.PROVIDER_TIMEOUT_MS=${timeoutMs}`],
        ),
      ).toThrow(/services\.notification\.env\.PROVIDER_TIMEOUT_MS/);
    });
  });

  it("counts service-kit's close grace after the drain, to the millisecond", () => {
    const budget = [
      '--set',
      'termination.shutdownSeconds=30',
      '--set',
      'termination.gracePeriodSeconds=40',
    ];
    const withDrain = (drainMs: number) => () =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        [...budget, '--set', `services.booking.env.SHUTDOWN_DRAIN_MS=${drainMs}`],
      );
    expect(withDrain(30_000 - closeGraceMs)().length).toBeGreaterThan(0);
    expect(withDrain(30_000 - closeGraceMs + 1)).toThrow(/services.booking.env.SHUTDOWN_DRAIN_MS/);
  });

  it("refuses a drain set in a service's env that the shutdown budget does not cover", () => {
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set', 'services.booking.env.SHUTDOWN_DRAIN_MS=20000'],
      ),
    ).toThrow(/services.booking.env.SHUTDOWN_DRAIN_MS/);
    const raised = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      [
        '--set',
        'services.booking.env.SHUTDOWN_DRAIN_MS=20000',
        '--set',
        'termination.shutdownSeconds=30',
        '--set',
        'termination.gracePeriodSeconds=40',
      ],
    );
    expect(raised.length).toBeGreaterThan(0);
  });

  it("refuses a shutdown budget that does not cover a service's default drain", () => {
    // The chart assumes the services' default drain where none is set.
    for (const service of SERVICES) {
      const drain = configSchemas.get(service)!.shape.SHUTDOWN_DRAIN_MS as
        | { safeParse(value: unknown): { data?: number } }
        | undefined;
      expect(drain?.safeParse(undefined).data, service).toBe(5000);
    }
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set', 'termination.shutdownSeconds=5', '--set', 'termination.gracePeriodSeconds=11'],
      ),
    ).toThrow(/SHUTDOWN_DRAIN_MS \(5000\)/);
  });

  it('refuses a grace period that does not cover the preStop pause and the shutdown', () => {
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set', 'termination.gracePeriodSeconds=10'],
      ),
    ).toThrow(/termination.gracePeriodSeconds/);
  });
});

describe('service env', () => {
  it("replaces the chart's own keys instead of repeating them", () => {
    // renderChart parses with unique keys: a repeated key fails the render.
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      [
        '--set',
        'services.booking.env.RUN_MIGRATIONS=true',
        '--set',
        'services.booking.env.LOG_LEVEL=debug',
        '--set',
        'services.booking.env.HOST=::',
        '--set',
        'services.booking.env.PORT=3003',
      ],
    );
    const booking = containerEnv(
      manifests,
      firstContainer(named(manifests, 'Deployment', 'happening-booking')),
    );
    expect(booking.values).toMatchObject({
      RUN_MIGRATIONS: 'true',
      LOG_LEVEL: 'debug',
      HOST: '::',
      PORT: '3003',
    });
    const catalog = containerEnv(
      manifests,
      firstContainer(named(manifests, 'Deployment', 'happening-catalog')),
    );
    expect(catalog.values).toMatchObject({ LOG_LEVEL: 'info', HOST: '0.0.0.0' });
  });

  it("refuses NODE_OPTIONS, which would replace the image's loader, for nodeArgs", () => {
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set', 'services.booking.env.NODE_OPTIONS=--max-old-space-size=400'],
      ),
    ).toThrow(/services.booking.env.NODE_OPTIONS .*services.booking.nodeArgs/);
  });

  it('refuses a PORT other than the one the probes and the Service use', () => {
    expect(() =>
      renderChart(helm, chart.dir, [requiredValues], ['--set', 'services.booking.env.PORT=4000']),
    ).toThrow(/services.booking.env.PORT \(4000\) differs from services.booking.port/);
  });
});

describe('private CA bundle', () => {
  interface Pod {
    containers: {
      volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
    }[];
    volumes?: {
      name: string;
      configMap?: { name: string; items?: { key: string; path: string }[] };
    }[];
  }

  /** Per Deployment and Job: the CA file NODE_EXTRA_CA_CERTS names, as the pod mounts it. */
  function caFiles(manifests: Manifest[]) {
    return [...byKind(manifests, 'Deployment'), ...byKind(manifests, 'Job')].map((workload) => {
      const pod = podTemplate(workload).spec as unknown as Pod;
      const env = containerEnv(manifests, firstContainer(workload)).values.NODE_EXTRA_CA_CERTS;
      const file = env === undefined ? undefined : path.posix.parse(env);
      const mount = pod.containers[0]!.volumeMounts?.find((m) => m.mountPath === file?.dir);
      const volume = pod.volumes?.find((v) => v.name === mount?.name);
      const item = volume?.configMap?.items?.find((i) => i.path === file?.base);
      return {
        name: workload.metadata.name,
        env,
        readOnly: mount?.readOnly,
        configMap: volume?.configMap?.name,
        key: item?.key,
      };
    });
  }

  it('is mounted read-only into every service and migration Job, named by NODE_EXTRA_CA_CERTS', () => {
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set', 'caBundle.configMap=rds-ca', '--set', 'caBundle.key=global-bundle.pem'],
    );
    assertValid(manifests);
    const files = caFiles(manifests);
    expect(files).toHaveLength(SERVICES.length + MIGRATING.length);
    for (const file of files)
      expect(file, file.name).toMatchObject({
        env: expect.stringMatching(/^\//),
        readOnly: true,
        configMap: 'rds-ca',
        key: 'global-bundle.pem',
      });
  });

  it('takes a ConfigMap name or key that reads as a number or a boolean in YAML as a string', () => {
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set-string', 'caBundle.configMap=123', '--set-string', 'caBundle.key=true'],
    );
    assertValid(manifests);
    for (const file of caFiles(manifests))
      expect(file, file.name).toMatchObject({ configMap: '123', key: 'true' });
  });

  it('is not mounted unless configured', () => {
    for (const file of caFiles(renderChart(helm, chart.dir, [requiredValues])))
      expect(file, file.name).toMatchObject({ env: undefined, configMap: undefined });
  });

  it("is trusted in the production example, whose database URLs verify the server's certificate", () => {
    for (const file of caFiles(renderChart(helm, chart.dir, [productionValues])))
      expect(file, file.name).toMatchObject({
        readOnly: true,
        configMap: 'happening-ca',
        key: 'ca.crt',
      });
    // pg 8 takes `require` for `verify-full` (against Node's CAs); pg 9 will verify nothing.
    const example = fs.readFileSync(productionValues, 'utf8');
    expect(example).toContain('sslmode=verify-full');
    expect(example).not.toMatch(/sslmode=(?!verify-full)/);
  });
});

describe('image tags', () => {
  const image = (manifests: Manifest[], kind: string, name: string) =>
    podTemplate(named(manifests, kind, name)).spec.containers[0]!.image;

  it('take a per-service tag for that service only, its migrations included', () => {
    const base = renderChart(helm, chart.dir, [requiredValues]);
    const staged = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set', 'services.catalog.image.tag=0.2.0'],
    );
    for (const service of SERVICES) {
      const name = `happening-${service}`;
      expect(image(staged, 'Deployment', name)).toBe(
        service === 'catalog' ? 'ghcr.io/happening/catalog:0.2.0' : image(base, 'Deployment', name),
      );
    }
    expect(image(staged, 'Job', 'happening-catalog-migrate')).toBe(
      'ghcr.io/happening/catalog:0.2.0',
    );
    expect(image(staged, 'Job', 'happening-booking-migrate')).toBe(
      image(base, 'Job', 'happening-booking-migrate'),
    );
  });
});

/** `key` of every rendered Secret that holds it, decoded. */
function sealingKeys(manifests: Manifest[], key = 'notification-sealing-key'): string[] {
  return byKind(manifests, 'Secret')
    .map((secret) => (secret as Manifest & { data: Record<string, string> }).data[key])
    .filter((value) => value !== undefined)
    .map((value) => Buffer.from(value, 'base64').toString());
}

describe('notification secrets', () => {
  it('generate one sealing key per release render, in the release Secret only', () => {
    const keys = sealingKeys(renderChart(helm, chart.dir, [requiredValues]));
    // The migrations' hook Secret carries database URLs alone.
    expect(keys).toHaveLength(1);
    expect(Buffer.from(keys[0]!, 'base64')).toHaveLength(32);
  });

  it('are kept on uninstall, so that installing again keeps the keys of what is sealed', () => {
    const secret = named(
      renderChart(helm, chart.dir, [requiredValues]),
      'Secret',
      'happening-secrets',
    );
    expect(annotation(secret, 'helm.sh/resource-policy')).toBe('keep');
  });

  it('use a configured sealing key and refuse a malformed one', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    const keys = sealingKeys(
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set', `secrets.notificationSealingKey=${key}`],
      ),
    );
    expect(keys).toEqual([key]);
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set', 'secrets.notificationSealingKey=short'],
      ),
    ).toThrow(/notificationSealingKey/);
  });

  it('give the migration Jobs the database URL and no other credential', () => {
    const manifests = renderChart(helm, chart.dir, [requiredValues]);
    const hookSecret = named(manifests, 'Secret', 'happening-migrations') as Manifest & {
      data: Record<string, string>;
    };
    expect(Object.keys(hookSecret.data).every((key) => key.startsWith('database-url-'))).toBe(true);
    const jobs = byKind(manifests, 'Job');
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      const secretEnv = (firstContainer(job).env ?? [])
        .filter((e) => e.valueFrom?.secretKeyRef)
        .map((e) => e.name);
      expect(secretEnv, job.metadata?.name).toEqual(['DATABASE_URL']);
    }
  });

  it('share one invite-link key between identity-org and notification, configured or generated', () => {
    const manifests = renderChart(helm, chart.dir, [requiredValues]);
    const generated = sealingKeys(manifests, 'invite-link-key');
    expect(generated).toHaveLength(1);
    expect(Buffer.from(generated[0]!, 'base64')).toHaveLength(32);
    expect(generated[0]).not.toBe(sealingKeys(manifests)[0]);
    for (const service of ['identity-org', 'notification']) {
      const container = firstContainer(named(manifests, 'Deployment', `happening-${service}`));
      const ref = container.env?.find((e) => e.name === 'INVITE_LINK_KEY')?.valueFrom?.secretKeyRef;
      expect(ref).toMatchObject({ key: 'invite-link-key' });
    }

    const key = Buffer.alloc(32, 2).toString('base64');
    const configured = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set', `secrets.inviteLinkKey=${key}`],
    );
    expect(sealingKeys(configured, 'invite-link-key')).toEqual([key]);
    expect(() =>
      renderChart(helm, chart.dir, [requiredValues], ['--set', 'secrets.inviteLinkKey=short']),
    ).toThrow(/inviteLinkKey/);
    // During a rotation: several keys, comma-separated (escaped for --set).
    const previous = Buffer.alloc(32, 3).toString('base64');
    const rotating = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set', `secrets.inviteLinkKey=${key}\\,${previous}`],
    );
    expect(sealingKeys(rotating, 'invite-link-key')).toEqual([`${key},${previous}`]);
  });

  it('require a provider key with a provider URL', () => {
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set', 'notification.smsApiUrl=https://sms.example'],
      ),
    ).toThrow(/secrets.smsApiKey is required/);
  });
});

const BROKER_USERS = ['identity-org', 'catalog', 'booking', 'notification'];

/** The Secret key each of `services` reads its `variable` (AMQP_URL, REDIS_URL) from. */
function urlKeys(
  manifests: Manifest[],
  services: readonly string[],
  variable: string,
): Record<string, string | undefined> {
  return Object.fromEntries(
    services.map((service) => {
      const container = firstContainer(named(manifests, 'Deployment', `happening-${service}`));
      const ref = container.env?.find((e) => e.name === variable)?.valueFrom?.secretKeyRef;
      return [service, ref?.key];
    }),
  );
}

/** The `variable` each of `services` gets, resolved through the rendered Secret. */
function urlValues(
  manifests: Manifest[],
  services: readonly string[],
  variable: string,
): Record<string, unknown> {
  return Object.fromEntries(
    services.map((service) => {
      const container = firstContainer(named(manifests, 'Deployment', `happening-${service}`));
      return [service, containerEnv(manifests, container).values[variable]];
    }),
  );
}

const amqpUrlKeys = (manifests: Manifest[]) => urlKeys(manifests, BROKER_USERS, 'AMQP_URL');
const amqpUrls = (manifests: Manifest[]) => urlValues(manifests, BROKER_USERS, 'AMQP_URL');

describe('broker users', () => {
  const shared = 'amqp://rabbitmq:5672';

  it('are one shared user for every service unless a service is given its own', () => {
    const manifests = renderChart(helm, chart.dir, [requiredValues]);
    expect(amqpUrls(manifests)).toEqual(
      Object.fromEntries(BROKER_USERS.map((service) => [service, shared])),
    );
    const secret = named(manifests, 'Secret', 'happening-secrets') as Manifest & {
      data: Record<string, string>;
    };
    expect(Object.keys(secret.data).filter((key) => key.startsWith('amqp-url'))).toEqual([
      'amqp-url',
    ]);
  });

  it("give a service's own URL to that service only, the others keeping the shared one", () => {
    const catalogUrl = 'amqps://catalog:s3cret@rabbitmq:5671';
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set-string', `secrets.amqpUrls.catalog=${catalogUrl}`],
    );
    expect(amqpUrls(manifests)).toEqual({
      'identity-org': shared,
      catalog: catalogUrl,
      booking: shared,
      notification: shared,
    });
  });

  it("read each service's own key from an existing Secret, when listed, else amqp-url", () => {
    // The production values start on the shared key, which the documented install creates: a
    // service is switched once its own key is in the Secret.
    expect(amqpUrlKeys(renderChart(helm, chart.dir, [productionValues]))).toEqual({
      'identity-org': 'amqp-url',
      catalog: 'amqp-url',
      booking: 'amqp-url',
      notification: 'amqp-url',
    });
    const all = renderChart(
      helm,
      chart.dir,
      [productionValues],
      [
        '--set-json',
        'secrets.existingSecretAmqpUrls=["identity-org","catalog","booking","notification"]',
      ],
    );
    expect(amqpUrlKeys(all)).toEqual({
      'identity-org': 'amqp-url-identity-org',
      catalog: 'amqp-url-catalog',
      booking: 'amqp-url-booking',
      notification: 'amqp-url-notification',
    });
    const onlyCatalog = renderChart(
      helm,
      chart.dir,
      [productionValues],
      ['--set-json', 'secrets.existingSecretAmqpUrls=["catalog"]'],
    );
    expect(amqpUrlKeys(onlyCatalog)).toEqual({
      'identity-org': 'amqp-url',
      catalog: 'amqp-url-catalog',
      booking: 'amqp-url',
      notification: 'amqp-url',
    });
  });

  it('refuse a per-service URL the chart would not use, rather than fall back to the shared user', () => {
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [productionValues],
        ['--set-string', 'secrets.amqpUrls.catalog=amqps://catalog:x@rabbitmq:5671'],
      ),
    ).toThrow(/secrets.amqpUrls is not read with secrets.existingSecret/);
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set-json', 'secrets.existingSecretAmqpUrls=["catalog"]'],
      ),
    ).toThrow(/secrets.existingSecretAmqpUrls names keys of secrets.existingSecret/);
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set-string', 'secrets.amqpUrls.gateway=amqp://x'],
      ),
    ).toThrow(/gateway/);
  });
});

const REDIS_USERS = ['booking', 'gateway'];

const redisUrlKeys = (manifests: Manifest[]) => urlKeys(manifests, REDIS_USERS, 'REDIS_URL');
const redisUrls = (manifests: Manifest[]) => urlValues(manifests, REDIS_USERS, 'REDIS_URL');

describe('redis users', () => {
  const shared = 'redis://redis:6379/0';

  it('are one shared user for booking and the gateway unless a service is given its own', () => {
    const manifests = renderChart(helm, chart.dir, [requiredValues]);
    expect(redisUrls(manifests)).toEqual({ booking: shared, gateway: shared });
    const secret = named(manifests, 'Secret', 'happening-secrets') as Manifest & {
      data: Record<string, string>;
    };
    expect(Object.keys(secret.data).filter((key) => key.startsWith('redis-url'))).toEqual([
      'redis-url',
    ]);
  });

  it("give a service's own URL to that service only, the other keeping the shared one", () => {
    const gatewayUrl = 'rediss://gateway:s3cret@redis:6380/0';
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set-string', `secrets.redisUrls.gateway=${gatewayUrl}`],
    );
    expect(redisUrls(manifests)).toEqual({ booking: shared, gateway: gatewayUrl });
    // AMQP URLs given alongside land in their own keys, not in Redis ones.
    const both = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      [
        '--set-string',
        `secrets.redisUrls.booking=${gatewayUrl}`,
        '--set-string',
        'secrets.amqpUrls.booking=amqps://booking:x@rabbitmq:5671',
      ],
    );
    expect(redisUrlKeys(both)).toEqual({ booking: 'redis-url-booking', gateway: 'redis-url' });
    expect(amqpUrlKeys(both).booking).toBe('amqp-url-booking');
  });

  it("read each service's own key from an existing Secret, when listed, else redis-url", () => {
    // The production values start on the shared key, which the documented install creates.
    expect(redisUrlKeys(renderChart(helm, chart.dir, [productionValues]))).toEqual({
      booking: 'redis-url',
      gateway: 'redis-url',
    });
    const all = renderChart(
      helm,
      chart.dir,
      [productionValues],
      ['--set-json', 'secrets.existingSecretRedisUrls=["booking","gateway"]'],
    );
    expect(redisUrlKeys(all)).toEqual({
      booking: 'redis-url-booking',
      gateway: 'redis-url-gateway',
    });
    const onlyGateway = renderChart(
      helm,
      chart.dir,
      [productionValues],
      ['--set-json', 'secrets.existingSecretRedisUrls=["gateway"]'],
    );
    expect(redisUrlKeys(onlyGateway)).toEqual({
      booking: 'redis-url',
      gateway: 'redis-url-gateway',
    });
    expect(amqpUrlKeys(onlyGateway).booking).toBe('amqp-url');
  });

  it('refuse a per-service URL the chart would not use, rather than fall back to the shared user', () => {
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [productionValues],
        ['--set-string', 'secrets.redisUrls.gateway=rediss://gateway:x@redis:6380/0'],
      ),
    ).toThrow(/secrets.redisUrls is not read with secrets.existingSecret/);
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set-json', 'secrets.existingSecretRedisUrls=["gateway"]'],
      ),
    ).toThrow(/secrets.existingSecretRedisUrls names keys of secrets.existingSecret/);
    // Only booking and the gateway use Redis.
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set-string', 'secrets.redisUrls.catalog=redis://x'],
      ),
    ).toThrow(/catalog/);
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [productionValues],
        ['--set-json', 'secrets.existingSecretRedisUrls=["catalog"]'],
      ),
    ).toThrow(/existingSecretRedisUrls/);
  });
});

describe('values schema and dependencies', () => {
  it('rejects invalid and weakened values', () => {
    expect(() =>
      renderChart(helm, chart.dir, [requiredValues], ['--set', 'services.booking.port=http']),
    ).toThrow(/port/);
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [requiredValues],
        ['--set', 'securityContext.readOnlyRootFilesystem=false'],
      ),
    ).toThrow(/readOnlyRootFilesystem/);
    expect(() =>
      renderChart(helm, chart.dir, [requiredValues], ['--set', 'services.booking.replicas=3']),
    ).toThrow(/replicas/);
  });

  it('renders fixed replicas without autoscaling', () => {
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
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

  it("escapes the in-chart dependencies' credentials in the URLs it builds for them", () => {
    const password = 'p@ss/w:rd?#% +&=';
    const manifests = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['postgresql', 'redis', 'rabbitmq'].flatMap((dependency) => [
        '--set',
        `${dependency}.enabled=true`,
        '--set-json',
        `${dependency}.auth.password=${JSON.stringify(password)}`,
      ]),
    );
    const secret = named(manifests, 'Secret', 'happening-secrets') as Manifest & {
      data: Record<string, string>;
    };
    const urls = ['database-url-booking', 'amqp-url', 'redis-url'].map(
      (key) => new URL(Buffer.from(secret.data[key]!, 'base64').toString()),
    );
    // pg and ioredis decode the userinfo with decodeURIComponent, amqplib with unescape (the
    // same for ASCII).
    expect(urls.map((url) => [url.hostname, decodeURIComponent(url.password)])).toEqual([
      ['happening-postgresql', password],
      ['happening-rabbitmq', password],
      ['happening-redis-master', password],
    ]);
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

/** The settings values.yaml leaves empty, each with the message the render fails with. */
const REQUIRED_SETTINGS = [
  'oidc.issuer',
  ...MIGRATING.map((service) => `secrets.databaseUrls.${service}`),
  'secrets.amqpUrl',
  'secrets.redisUrl',
  'secrets.smtpUrl',
  'identityOrg.publicAppUrl',
  'notification.mailFrom',
];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('required values', () => {
  it('are empty in values.yaml, so that the defaults alone do not render', () => {
    const values = parse(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'));
    for (const setting of REQUIRED_SETTINGS) {
      const value = setting
        .split('.')
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], values);
      expect(value, setting).toBe('');
    }
    expect(() => renderChart(helm, chart.dir)).toThrow(/ is required: /);
  });

  it('each fail the render when missing, naming the value to set', () => {
    for (const setting of REQUIRED_SETTINGS) {
      expect(
        () => renderChart(helm, chart.dir, [requiredValues], ['--set', `${setting}=`]),
        setting,
      ).toThrow(new RegExp(`${escapeRegExp(setting)} is required: `));
    }
  });

  it('are not needed from the values where the Secret or a dependency provides them', () => {
    // secrets.existingSecret holds every URL: only the issuer and the app URL are values.
    const existing = renderChart(
      helm,
      chart.dir,
      [],
      [
        '--set',
        'secrets.existingSecret=happening-credentials',
        '--set',
        'oidc.issuer=https://auth.example.org/realms/happening',
        '--set',
        'identityOrg.publicAppUrl=https://app.example.org',
        '--set',
        'notification.mailFrom=Happening <no-reply@example.org>',
      ],
    );
    assertValid(existing);
    // Without notification nothing mails: no SMTP URL.
    const withoutNotification = renderChart(
      helm,
      chart.dir,
      [requiredValues],
      ['--set', 'secrets.smtpUrl=', '--set', 'services.notification.enabled=false'],
    );
    const secret = named(withoutNotification, 'Secret', 'happening-secrets') as Manifest & {
      data: Record<string, string>;
    };
    expect(secret.data).not.toHaveProperty('smtp-url');
  });
});

/** The YAML blocks of docs/operations.md's "Dependencies" section whose first line matches. */
function dependencyDocsBlock(firstLine: RegExp): string {
  const docs = fs.readFileSync(fromRoot('docs', 'operations.md'), 'utf8');
  const section = docs.slice(docs.indexOf('### Dependencies'));
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const block = blocks.find((b) => firstLine.test(b.split('\n')[0]!));
  if (!block) throw new Error(`no yaml block starting with ${firstLine} under "Dependencies"`);
  return block;
}

describe('the evaluation setup of docs/operations.md', () => {
  const evaluation = () =>
    parse(dependencyDocsBlock(/^# evaluation\.yaml/)) as Record<string, unknown>;
  const keycloak = () =>
    (parse(dependencyDocsBlock(/^keycloak:/)) as { keycloak: Record<string, unknown> }).keycloak;

  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'happening-evaluation-'));
    fs.writeFileSync(path.join(dir, 'evaluation.yaml'), dependencyDocsBlock(/^# evaluation\.yaml/));
    fs.writeFileSync(path.join(dir, 'keycloak.yaml'), dependencyDocsBlock(/^keycloak:/));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('renders with every in-chart dependency, the chart deriving their URLs', () => {
    expect(evaluation()).toMatchObject({
      postgresql: { enabled: true },
      redis: { enabled: true },
      rabbitmq: { enabled: true },
    });
    const manifests = renderChart(helm, chart.dir, [
      path.join(dir, 'evaluation.yaml'),
      path.join(dir, 'keycloak.yaml'),
    ]);
    assertValid(manifests);
    const booking = containerEnv(
      manifests,
      firstContainer(named(manifests, 'Deployment', 'happening-booking')),
    ).values;
    expect(booking.OIDC_ISSUER).toBe('http://happening-keycloak/realms/happening');
    expect(new URL(String(booking.DATABASE_URL)).hostname).toBe('happening-postgresql');
    expect(new URL(String(booking.AMQP_URL)).hostname).toBe('happening-rabbitmq');
    expect(new URL(String(booking.REDIS_URL)).hostname).toBe('happening-redis-master');
  });

  it("gives Keycloak the chart's PostgreSQL, not a second one of the same name", () => {
    // The bitnami keycloak chart's own PostgreSQL (its postgresql.enabled, true by default) is
    // named <release>-postgresql, as the chart's is: the chart refuses both.
    expect(() =>
      renderChart(
        helm,
        chart.dir,
        [path.join(dir, 'evaluation.yaml')],
        ['--set', 'keycloak.enabled=true'],
      ),
    ).toThrow(/keycloak\.postgresql\.enabled must be false/);
    expect(keycloak()).toMatchObject({
      enabled: true,
      postgresql: { enabled: false },
      externalDatabase: {
        host: 'happening-postgresql',
        user: 'happening',
        database: 'happening',
        existingSecret: 'happening-postgresql',
        existingSecretPasswordKey: 'password',
      },
    });
    // Keycloak alone, on a database of one's own, keeps its chart's choice.
    expect(
      renderChart(helm, chart.dir, [requiredValues], ['--set', 'keycloak.enabled=true']).length,
    ).toBeGreaterThan(0);
  });
});

describe('offline renders', () => {
  it('are documented with a --kube-version the chart accepts (helm from source assumes 1.20)', () => {
    const docs = fs.readFileSync(fromRoot('docs', 'operations.md'), 'utf8');
    const chartYaml = parse(fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as {
      kubeVersion: string;
    };
    const minimum = /^>=(\d+)\.(\d+)/.exec(chartYaml.kubeVersion);
    expect(minimum, chartYaml.kubeVersion).not.toBeNull();
    const commands = [...docs.matchAll(/^helm template (?:.*\\\n)*.*/gm)].map((m) => m[0]);
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const [, major, minor] = /--kube-version v?(\d+)\.(\d+)/.exec(command) ?? [];
      expect(major, command).toBeDefined();
      expect(Number(major) * 1000 + Number(minor)).toBeGreaterThanOrEqual(
        Number(minimum![1]) * 1000 + Number(minimum![2]),
      );
    }
    expect(docs).toMatch(/v1\.20/);
  });
});
