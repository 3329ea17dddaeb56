import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isExported, isExternal, scanRegistrations } from '../src/metric-registrations.ts';
import { metricNamesIn } from '../src/promql.metrics.ts';
import { alertRulesFile, fromRoot } from '../src/repo.paths.ts';

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function dashboardQueries(): { where: string; expr: string }[] {
  const dir = fromRoot('infra', 'observability', 'grafana', 'dashboards');
  return fs.readdirSync(dir).flatMap((file) => {
    const dashboard = JSON.parse(fs.readFileSync(`${dir}/${file}`, 'utf8')) as {
      panels: Panel[];
      templating?: { list: { name: string; query?: string | { query?: string } }[] };
    };
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    const fromPanels = panels.flatMap((panel) =>
      (panel.targets ?? []).flatMap((t) =>
        t.expr ? [{ where: `${file}: ${panel.title}`, expr: t.expr }] : [],
      ),
    );
    const fromVariables = (dashboard.templating?.list ?? []).flatMap((v) => {
      const query = typeof v.query === 'string' ? v.query : v.query?.query;
      return query ? [{ where: `${file}: $${v.name}`, expr: query }] : [];
    });
    return [...fromPanels, ...fromVariables];
  });
}

function alertQueries(): { where: string; expr: string }[] {
  const rules = parse(fs.readFileSync(alertRulesFile, 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return rules.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
  );
}

describe('observability queries', () => {
  const queries = [...dashboardQueries(), ...alertQueries()];

  it('cover what the operations runbook promises', () => {
    const metrics = new Set(queries.flatMap((q) => metricNamesIn(q.expr)));
    for (const metric of [
      'http_request_duration_seconds_bucket',
      'happening_bookings_total',
      'happening_waitlist_length',
      'happening_outbox_lag_seconds',
      'happening_outbox_unpublished',
      'happening_outbox_relay_last_round_timestamp_seconds',
      'happening_consumer_messages_total',
      'happening_dlq_messages_total',
      'happening_notifications_total',
      'happening_notifications_waiting',
      'happening_waiting_notices_given_up_total',
      'happening_broker_connected',
      'happening_broker_blocked',
      'rabbitmq_queue_messages_ready',
      'rabbitmq_queue_messages',
    ]) {
      expect(metrics, metric).toContain(metric);
    }
  });

  it('only query metrics that the services register with prom-client', () => {
    const { registrations, defaultMetrics } = scanRegistrations();
    const missing = new Map<string, string[]>();
    for (const { where, expr } of queries) {
      for (const metric of metricNamesIn(expr)) {
        if (isExternal(metric) || isExported(metric, registrations, defaultMetrics)) continue;
        missing.set(metric, [...(missing.get(metric) ?? []), where]);
      }
    }
    const report = [...missing].map(([metric, uses]) => `${metric} (used by ${uses.join(', ')})`);
    expect(
      report,
      `metrics queried but registered nowhere in services/*/src or packages/*/src:\n${report.join('\n')}`,
    ).toEqual([]);
  });
});
