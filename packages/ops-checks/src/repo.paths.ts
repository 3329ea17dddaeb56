import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the monorepo root. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Absolute path of a file or folder given relative to the monorepo root. */
export function fromRoot(...segments: string[]): string {
  return path.join(repoRoot, ...segments);
}

/** The Helm chart of the platform. */
export const chartDir = fromRoot('k8s', 'happening');

/** The Prometheus alert rules: the chart's PrometheusRule and the Compose Prometheus load this file. */
export const alertRulesFile = path.join(chartDir, 'files', 'alerts.yml');
