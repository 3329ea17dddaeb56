import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertRulesFile, fromRoot } from '../src/repo.paths.ts';
import { configProblems, loadConfigSchema, loadShutdownBudget } from '../src/service-config.ts';

interface ComposeService {
  profiles?: string[];
  build?: { context: string; dockerfile: string; args: Record<string, string> };
  environment?: Record<string, string>;
  read_only?: boolean;
  tmpfs?: string[];
  volumes?: string[];
  stop_grace_period?: string;
}

const composeFile = fromRoot('infra', 'docker-compose.yml');
const compose = parse(fs.readFileSync(composeFile, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const serviceNames = fs.readdirSync(fromRoot('services'));

/** A value as Compose sees it with no variables set: `${NAME:-default}` becomes `default`. */
function interpolated(value: string): string {
  return value.replace(/\$\{[A-Za-z0-9_]+(?::?-([^}]*))?\}/g, (_match, fallback) => fallback ?? '');
}

/** A service's environment as Compose gives it with no variables set. */
function environmentOf(service: ComposeService | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service?.environment ?? {}).map(([key, value]) => [
      key,
      interpolated(String(value)),
    ]),
  );
}

/** A Compose duration (`1m30s`, `20s`, `500ms`) in milliseconds. */
function durationMs(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)];
  if (parts.map((p) => p[0]).join('') !== value) throw new Error(`not a duration: ${value}`);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * units[unit!]!, 0);
}

describe('infra/docker-compose.yml platform profile', () => {
  it('runs every service from its image, hardened like the chart', () => {
    for (const name of serviceNames) {
      const service = compose.services[name];
      expect(service, name).toBeDefined();
      expect(service!.profiles).toEqual(['platform']);
      expect(service!.build?.dockerfile).toBe('docker/service.Dockerfile');
      expect(service!.build?.args.SERVICE).toBe(name);
      expect(service!.read_only).toBe(true);
      expect(service!.tmpfs).toContain('/tmp');
      expect(service!.environment).toMatchObject({
        HOST: '0.0.0.0',
        PORT: service!.build?.args.PORT,
      });
      for (const variable of ['LOG_LEVEL', 'OIDC_ISSUER', 'OIDC_AUDIENCE']) {
        expect(service!.environment, `${name} ${variable}`).toHaveProperty(variable);
      }
    }
    for (const name of ['booking', 'gateway']) {
      expect(compose.services[name]!.environment).toHaveProperty('REDIS_URL');
    }
  });

  it("sets every variable each service's config requires, with values it accepts", async () => {
    const problems: string[] = [];
    for (const name of serviceNames) {
      const values = environmentOf(compose.services[name]);
      const schema = await loadConfigSchema(name);
      for (const problem of configProblems(schema, { values, optional: [], problems: [] }))
        problems.push(`${name}: ${problem}`);
    }
    expect(problems).toEqual([]);
  });

  it('gives each service its shutdown budget before Docker kills it: notification its slowest send', async () => {
    for (const name of serviceNames) {
      const service = compose.services[name]!;
      // The drain plus service-kit's 10 s to close (notification: its slowest send, if longer).
      const budgetMs = (await loadShutdownBudget(name))(environmentOf(service));
      // Compose's default is 10 s, less than the default drain and close.
      const graceMs = durationMs(service.stop_grace_period ?? '10s');
      expect(graceMs, name).toBeGreaterThanOrEqual(budgetMs);
    }
  });

  it('scrapes each service on the port it listens on, and mounts existing observability files', () => {
    const scrape = parse(
      fs.readFileSync(fromRoot('infra', 'observability', 'prometheus', 'prometheus.yml'), 'utf8'),
    ) as {
      scrape_configs: {
        job_name: string;
        static_configs: { targets: string[]; labels?: { service?: string } }[];
      }[];
    };
    const job = scrape.scrape_configs.find((c) => c.job_name === 'happening')!;
    const targets = job.static_configs.map((c) => [c.labels?.service, c.targets[0]]);
    expect(targets.map(([s]) => s).sort()).toEqual([...serviceNames].sort());
    for (const [service, target] of targets) {
      expect(target).toBe(`${service}:${compose.services[service!]!.build?.args.PORT}`);
    }
    for (const name of ['prometheus', 'grafana']) {
      for (const volume of compose.services[name]!.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.'))
          expect(fs.existsSync(path.resolve(path.dirname(composeFile), source)), source).toBe(true);
      }
    }
  });

  it("loads the chart's alert rules, the one rules file, into Prometheus", () => {
    const mounted = (compose.services.prometheus!.volumes ?? []).find((v) =>
      v.endsWith(':/etc/prometheus/alerts.yml:ro'),
    );
    const source = path.resolve(path.dirname(composeFile), mounted!.split(':')[0]!);
    expect(fs.realpathSync(source)).toBe(fs.realpathSync(alertRulesFile));
  });
});
