import fs from 'node:fs';
import path from 'node:path';
import { fromRoot } from './repo.paths.ts';

/** A metric registered with prom-client somewhere in the code. */
export interface MetricRegistration {
  name: string;
  type: 'Counter' | 'Gauge' | 'Histogram' | 'Summary';
  file: string;
}

const REGISTRATION =
  /new\s+(?:[A-Za-z_$][\w$]*\.)?(Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\s*\(\s*\{[\s\S]{0,600}?\bname:\s*(['"`])([a-zA-Z_:][a-zA-Z0-9_:]*)\2/g;

/** The prom-client registrations (`new Counter({ name: '...' })` and kin) in one source text. */
export function findRegistrations(source: string, file = ''): MetricRegistration[] {
  return [...source.matchAll(REGISTRATION)].map((match) => ({
    type: match[1] as MetricRegistration['type'],
    name: match[3]!,
    file,
  }));
}

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap((entry) => {
    if (!entry.isFile() || !/\.(ts|js|mts)$/.test(entry.name) || /\.test\.ts$/.test(entry.name))
      return [];
    const full = path.join(entry.parentPath, entry.name);
    return full.includes(`${path.sep}node_modules${path.sep}`) ? [] : [full];
  });
}

/** Every metric registered in `services/*\/src` and `packages/*\/src` (tests excluded). */
export function scanRegistrations(): {
  registrations: MetricRegistration[];
  defaultMetrics: boolean;
} {
  const registrations: MetricRegistration[] = [];
  let defaultMetrics = false;
  for (const group of ['services', 'packages']) {
    const base = fromRoot(group);
    for (const pkg of fs.readdirSync(base)) {
      if (pkg === 'ops-checks') continue;
      for (const file of sourceFiles(path.join(base, pkg, 'src'))) {
        const source = fs.readFileSync(file, 'utf8');
        registrations.push(...findRegistrations(source, path.relative(fromRoot(), file)));
        if (/collectDefaultMetrics\s*\(/.test(source)) defaultMetrics = true;
      }
    }
  }
  return { registrations, defaultMetrics };
}

const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'];

/** Metrics exported by other software (RabbitMQ's Prometheus plugin, Prometheus itself). */
export function isExternal(metric: string): boolean {
  return metric.startsWith('rabbitmq_') || metric === 'up' || metric.startsWith('ALERTS');
}

/** Whether a queried series name is produced by one of the registrations. */
export function isExported(
  metric: string,
  registrations: readonly MetricRegistration[],
  defaultMetrics: boolean,
): boolean {
  if (defaultMetrics && /^(process|nodejs)_/.test(metric)) return true;
  return registrations.some((r) => {
    if (r.name === metric) return true;
    if (r.type !== 'Histogram' && r.type !== 'Summary') return false;
    return HISTOGRAM_SERIES.some((suffix) => `${r.name}${suffix}` === metric);
  });
}
