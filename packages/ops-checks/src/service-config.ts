import fs from 'node:fs';
import { CLOSE_GRACE_MS } from '@happening/service-kit';
import type { Manifest } from './helm.runner.ts';
import { fromRoot } from './repo.paths.ts';

/** One variable of a service's zod environment schema (only what the checks call). */
export interface EnvField {
  safeParse(value: unknown): { success: boolean; data?: unknown };
}

/** A service's zod environment schema, as exported by its `src/config.ts`. */
export interface EnvSchema {
  shape: Record<string, EnvField>;
  safeParse(env: unknown): {
    success: boolean;
    error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
  };
}

/** Name of the schema each service's `src/config.ts` exports for its whole environment. */
export const CONFIG_SCHEMA_EXPORTS: Readonly<Record<string, string>> = {
  'identity-org': 'configSchema',
  catalog: 'configSchema',
  booking: 'configSchema',
  notification: 'configSchema',
  gateway: 'gatewayConfigSchema',
};

/** Name of the schema each migrating service's `src/config.ts` exports for `src/migrate.ts`. */
export const MIGRATE_CONFIG_SCHEMA_EXPORT = 'migrateConfigSchema';

/** Every folder under `services/`. */
export function serviceNames(): string[] {
  return fs
    .readdirSync(fromRoot('services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/**
 * Imports `services/<service>/src/config.ts` and returns its environment schema: the service's
 * own, or with `forMigrations` the one its `src/migrate.ts` reads.
 */
export async function loadConfigSchema(
  service: string,
  { forMigrations = false } = {},
): Promise<EnvSchema> {
  const exportName = forMigrations ? MIGRATE_CONFIG_SCHEMA_EXPORT : CONFIG_SCHEMA_EXPORTS[service];
  if (!exportName) throw new Error(`no config schema export named for service ${service}`);
  const file = fromRoot('services', service, 'src', 'config.ts');
  const module = (await import(file)) as Record<string, unknown>;
  const schema = module[exportName] as EnvSchema | undefined;
  if (!schema?.shape || typeof schema.safeParse !== 'function') {
    throw new Error(`${file} does not export a zod object schema named ${exportName}`);
  }
  return schema;
}

/**
 * Milliseconds a service may take from SIGTERM to exit, given its environment: what its
 * `src/config.ts`'s `shutdownGraceMs(config)` answers when it exports one (notification: its
 * slowest send), else its drain plus service-kit's `CLOSE_GRACE_MS`, what `runService` gives it.
 */
export async function loadShutdownBudget(
  service: string,
): Promise<(env: Readonly<Record<string, string | undefined>>) => number> {
  const schema = await loadConfigSchema(service);
  const module = (await import(fromRoot('services', service, 'src', 'config.ts'))) as {
    shutdownGraceMs?: (config: Record<string, unknown>) => number;
  };
  // Each variable as the service reads it; one it would refuse (a required one unset) is left out.
  const config = (env: Readonly<Record<string, string | undefined>>) =>
    Object.fromEntries(
      Object.entries(schema.shape).map(([name, field]) => [name, field.safeParse(env[name]).data]),
    );
  const { shutdownGraceMs } = module;
  if (typeof shutdownGraceMs === 'function') return (env) => shutdownGraceMs(config(env));
  return (env) => Number(config(env).SHUTDOWN_DRAIN_MS ?? 0) + CLOSE_GRACE_MS;
}

/** Variables the schema needs from the environment: those without a default and not optional. */
export function requiredVariables(schema: EnvSchema): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([name]) => name)
    .sort();
}

/**
 * The environment a container gets. `values` maps each variable to its value, or to undefined when
 * it comes from a Secret that is not rendered (an existing Secret: the value is unknown here).
 */
export interface ContainerEnv {
  values: Record<string, string | undefined>;
  /** Variables read from Secret or ConfigMap keys marked optional. */
  optional: string[];
  /** References to rendered objects or keys that do not exist. */
  problems: string[];
}

interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: KeyRef; secretKeyRef?: KeyRef };
}

interface EnvFromSource {
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
  prefix?: string;
}

/** A container of a Deployment, Job or other pod template. */
export interface Container {
  name: string;
  command?: string[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
}

/** The first container of a workload's pod template. */
export function firstContainer(workload: Manifest): Container {
  const spec = workload.spec as { template?: { spec?: { containers?: Container[] } } };
  const container = spec.template?.spec?.containers?.[0];
  if (!container) throw new Error(`${workload.kind}/${workload.metadata.name} has no container`);
  return container;
}

function dataOf(
  manifests: readonly Manifest[],
  kind: 'ConfigMap' | 'Secret',
  name: string,
): Record<string, string> | undefined {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) return undefined;
  if (kind === 'ConfigMap') return (found.data as Record<string, string> | undefined) ?? {};
  const data = (found.data as Record<string, string> | undefined) ?? {};
  const decoded = Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
  );
  return { ...decoded, ...((found.stringData as Record<string, string> | undefined) ?? {}) };
}

/** Resolves a container's `env` and `envFrom` against the ConfigMaps and Secrets rendered with it. */
export function containerEnv(manifests: readonly Manifest[], container: Container): ContainerEnv {
  const env: ContainerEnv = { values: {}, optional: [], problems: [] };
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    if (!ref) continue;
    const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
    const data = dataOf(manifests, kind, ref.name);
    if (data === undefined) {
      // Only an existing Secret may be missing from the rendered objects.
      if (kind === 'ConfigMap') env.problems.push(`envFrom ${kind}/${ref.name} is not rendered`);
      continue;
    }
    for (const [key, value] of Object.entries(data))
      env.values[`${source.prefix ?? ''}${key}`] = value;
  }
  for (const variable of container.env ?? []) {
    if (variable.valueFrom === undefined) {
      env.values[variable.name] = variable.value ?? '';
      continue;
    }
    const { configMapKeyRef, secretKeyRef } = variable.valueFrom;
    const ref = configMapKeyRef ?? secretKeyRef;
    if (!ref) continue;
    const kind = configMapKeyRef ? 'ConfigMap' : 'Secret';
    if (ref.optional) env.optional.push(variable.name);
    const data = dataOf(manifests, kind, ref.name);
    if (data === undefined) {
      if (kind === 'ConfigMap')
        env.problems.push(`${variable.name}: ConfigMap/${ref.name} is not rendered`);
      env.values[variable.name] = undefined;
    } else if (ref.key in data) {
      env.values[variable.name] = data[ref.key];
    } else if (!ref.optional) {
      env.problems.push(`${variable.name}: ${kind}/${ref.name} has no key ${ref.key}`);
    }
  }
  return env;
}

/**
 * What is wrong with `env` for `schema`: required variables that are missing or only optionally
 * set, broken references, and every value the schema rejects (values from unrendered Secrets are
 * unknown and not judged).
 */
export function configProblems(schema: EnvSchema, env: ContainerEnv): string[] {
  const problems = [...env.problems];
  const missing = new Set<string>();
  for (const name of requiredVariables(schema)) {
    if (!(name in env.values)) {
      missing.add(name);
      problems.push(`${name} is required but not set`);
    } else if (env.optional.includes(name)) {
      problems.push(`${name} is required but set optionally`);
    }
  }
  const unknown = new Set(
    Object.entries(env.values)
      .filter(([, value]) => value === undefined)
      .map(([name]) => name),
  );
  const result = schema.safeParse(env.values);
  for (const issue of result.error?.issues ?? []) {
    const name = String(issue.path[0] ?? '');
    if (unknown.has(name) || missing.has(name)) continue;
    problems.push(`${name}: ${issue.message}`);
  }
  return problems;
}
