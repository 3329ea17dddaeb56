import fs from 'node:fs';
import { createApp, createLogger, httpRequestDuration } from '@happening/service-kit';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { scanRegistrations } from '../src/metric-registrations.ts';
import { absentSelectors, metricNamesIn, selectorsOf, selects } from '../src/promql.metrics.ts';
import { alertRulesFile, fromRoot } from '../src/repo.paths.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  annotations?: { runbook?: string };
}

const rules = (
  parse(fs.readFileSync(alertRulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const services = fs.readdirSync(fromRoot('services'));

describe('availability alerts', () => {
  it('fire for every service whose scrape targets disappear, not only when they fail', () => {
    // `up == 0` needs a target: a deleted Deployment or a broken ServiceMonitor leaves none.
    const watched = rules.flatMap((rule) => absentSelectors(rule.expr).map((s) => ({ rule, s })));
    for (const service of services) {
      const match = watched.find(({ s }) => s === `up{service="${service}"}`);
      expect(match, `no absent(up{service="${service}"}) alert`).toBeDefined();
      expect(match!.rule.for, match!.rule.alert).toBeDefined();
    }
  });
});

describe('alert runbooks', () => {
  it('link each alert to its own section of docs/operations.md', () => {
    const headings = fs
      .readFileSync(fromRoot('docs', 'operations.md'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('### '))
      .map((line) => line.slice(4).trim().toLowerCase());
    for (const rule of rules) {
      expect(rule.annotations?.runbook, rule.alert).toBe(
        `docs/operations.md#${rule.alert.toLowerCase()}`,
      );
      expect(headings, rule.alert).toContain(rule.alert.toLowerCase());
    }
  });

  it('watch that the outbox relays keep completing rounds, on the gauge the relay registers', () => {
    // The lag and backlog gauges are measured by completed rounds only: a stalled relay leaves
    // them as they were, so a stall needs an alert of its own.
    const stalled = rules.find((rule) => rule.alert === 'HappeningOutboxRelayStalled');
    expect(stalled?.for).toBeDefined();
    const metric = 'happening_outbox_relay_last_round_timestamp_seconds';
    expect(metricNamesIn(stalled!.expr)).toContain(metric);
    const registered = scanRegistrations().registrations.filter((r) => r.name === metric);
    expect(registered.map((r) => [r.file, r.type])).toEqual([
      ['packages/db/src/outbox.metrics.ts', 'Gauge'],
    ]);
  });
});

/**
 * The labels service-kit records in http_request_duration_seconds for the requests of a service
 * app: its probes and scrape (/healthz, /readyz while not ready, /metrics) and an API route that
 * fails. Read from the histogram itself, so a change of the route label shows here.
 */
async function recordedRequestLabels(): Promise<{
  probes: Record<string, string>[];
  api: Record<string, string>[];
}> {
  const app = createApp({
    name: 'alert-check',
    logger: createLogger({ name: 'alert-check', level: 'silent' }),
    openapi: false,
    readinessChecks: { postgres: async () => Promise.reject(new Error('down')) },
  });
  app.get('/v1/things/:thingId', async (_request, reply) => reply.code(500).send({}));
  httpRequestDuration.reset();
  try {
    for (const url of ['/healthz', '/readyz', '/metrics', '/v1/things/1'])
      await app.inject({ method: 'GET', url });
  } finally {
    await app.close();
  }
  const series = (await httpRequestDuration.get()).values
    .filter((v) => v.metricName === 'http_request_duration_seconds_count')
    .map((v) => Object.fromEntries(Object.entries(v.labels).map(([k, l]) => [k, String(l)])));
  const isApi = (labels: Record<string, string>) => labels.route?.startsWith('/v1/') === true;
  return { probes: series.filter((l) => !isApi(l)), api: series.filter(isApi) };
}

describe('request alerts and the error ratio panel', () => {
  it('leave out the probes and scrapes service-kit records, and count the API routes', async () => {
    const { probes, api } = await recordedRequestLabels();
    expect(probes.map((l) => l.route).sort()).toEqual(['/healthz', '/metrics', '/readyz']);
    // /readyz answers 503 while a dependency is down: an "error" the alert must not count.
    expect(probes.find((l) => l.route === '/readyz')?.status_code).toBe('503');
    expect(api).toEqual([{ method: 'GET', route: '/v1/things/:thingId', status_code: '500' }]);
    // The dashboard's error ratio is read beside the alert: it must not tell another story.
    const dashboard = JSON.parse(
      fs.readFileSync(
        fromRoot('infra/observability/grafana/dashboards/happening-overview.json'),
        'utf8',
      ),
    ) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const errorRatioPanel = dashboard.panels.find((p) => p.title === '5xx ratio per service');
    const checked: [string, string | undefined][] = [
      ...['HappeningHighErrorRate', 'HappeningHighLatency'].map(
        (name): [string, string | undefined] => [name, rules.find((r) => r.alert === name)?.expr],
      ),
      // With every service picked in its `$service` variable.
      [
        "the dashboard's 5xx ratio",
        errorRatioPanel?.targets?.[0]?.expr
          .replaceAll('$service', '.*')
          .replaceAll('$__rate_interval', '5m'),
      ],
    ];
    for (const [name, expr] of checked) {
      expect(expr, name).toBeDefined();
      const selectors = ['_count', '_bucket', '_sum'].flatMap((suffix) =>
        selectorsOf(expr!, `http_request_duration_seconds${suffix}`).map((matchers) => ({
          matchers,
          suffix,
        })),
      );
      expect(selectors.length, name).toBeGreaterThan(0);
      for (const { matchers, suffix } of selectors) {
        // A bucket series also carries `le`, which the selectors leave free.
        const labelsOf = (labels: Record<string, string>) =>
          suffix === '_bucket' ? { ...labels, le: '+Inf' } : labels;
        for (const labels of probes)
          expect(selects(matchers, labelsOf(labels)), `${name} selects ${labels.route}`).toBe(
            false,
          );
        for (const labels of api)
          expect(selects(matchers, labelsOf(labels)), `${name} misses ${labels.route}`).toBe(true);
      }
    }
  });
});
