import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { chartDir, fromRoot } from './repo.paths.ts';

/** A rendered Kubernetes object, as parsed from `helm template`. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Kubernetes version the chart is rendered for (a go-installed helm defaults to 1.20). */
export const KUBE_VERSION = '1.30.0';

/**
 * Path of a helm binary, building it from the Go module proxy when none is installed. Not
 * synchronous: the build takes minutes, and a test worker whose event loop is blocked that long
 * misses its runner's calls and fails the run.
 */
export async function ensureHelm(): Promise<string> {
  const script = fromRoot('packages', 'ops-checks', 'scripts', 'ensure-helm.sh');
  const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`ensure-helm.sh exited with ${code}`);
  const helm = out.trim().split('\n').at(-1);
  if (!helm) throw new Error('ensure-helm.sh printed no path');
  return helm;
}

/**
 * Copies the chart to a temporary folder without its `dependencies`: the bitnami charts cannot be
 * fetched here and helm refuses to render with declared but missing dependencies, even disabled
 * ones. Rendering with every dependency disabled is equivalent.
 */
export function chartWithoutDependencies(): { dir: string; cleanup(): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'happening-chart-'));
  const dir = path.join(root, 'happening');
  fs.cpSync(chartDir, dir, {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}charts${path.sep}`),
  });
  const chartYaml = fs.readFileSync(path.join(dir, 'Chart.yaml'), 'utf8');
  const cut = chartYaml.search(/^dependencies:/m);
  fs.writeFileSync(path.join(dir, 'Chart.yaml'), cut === -1 ? chartYaml : chartYaml.slice(0, cut));
  return { dir, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

function helmArgs(valuesFiles: readonly string[]): string[] {
  return [...valuesFiles.flatMap((file) => ['-f', file]), '--kube-version', KUBE_VERSION];
}

/** Runs `helm lint --strict`; throws with helm's output when it fails. */
export function lintChart(helm: string, dir: string, valuesFiles: readonly string[] = []): string {
  return runHelm(helm, ['lint', '--strict', dir, ...helmArgs(valuesFiles)]);
}

/** Runs `helm template` and parses every rendered document (duplicate keys are errors). */
export function renderChart(
  helm: string,
  dir: string,
  valuesFiles: readonly string[] = [],
  extraArgs: readonly string[] = [],
): Manifest[] {
  const out = runHelm(helm, ['template', 'happening', dir, ...helmArgs(valuesFiles), ...extraArgs]);
  return parseManifests(out);
}

/**
 * The text `helm install` prints after an install (`templates/NOTES.txt`), which `helm template`
 * does not render: here its template is wrapped in a YAML document of a chart copy of its own.
 */
export function renderNotes(
  helm: string,
  valuesFiles: readonly string[] = [],
  extraArgs: readonly string[] = [],
): string {
  const chart = chartWithoutDependencies();
  try {
    const templates = path.join(chart.dir, 'templates');
    const notes = fs.readFileSync(path.join(templates, 'NOTES.txt'), 'utf8');
    fs.writeFileSync(
      path.join(templates, 'notes-rendered.yaml'),
      `{{- define "notes-rendered" }}\n${notes}\n{{- end }}\nnotes: |\n{{ include "notes-rendered" . | indent 2 }}\n`,
    );
    const out = runHelm(helm, [
      'template',
      'happening',
      chart.dir,
      ...helmArgs(valuesFiles),
      '--show-only',
      'templates/notes-rendered.yaml',
      ...extraArgs,
    ]);
    return (parseAllDocuments(out)[0]?.toJS() as { notes: string }).notes;
  } finally {
    chart.cleanup();
  }
}

/** Parses a multi-document YAML stream of Kubernetes objects, rejecting YAML errors. */
export function parseManifests(text: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
    if (doc.errors.length > 0)
      throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Manifest | null;
    if (value) manifests.push(value);
  }
  return manifests;
}

function runHelm(helm: string, args: string[]): string {
  try {
    return execFileSync(helm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    throw new Error(`helm ${args[0]} failed:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
  }
}
