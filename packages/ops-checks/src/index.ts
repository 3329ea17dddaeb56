export {
  type Dockerfile,
  finalStage,
  type Instruction,
  parseDockerfile,
} from './dockerfile.parser.ts';
export {
  chartWithoutDependencies,
  ensureHelm,
  KUBE_VERSION,
  lintChart,
  type Manifest,
  parseManifests,
  renderChart,
} from './helm.runner.ts';
export { findUnknownFields } from './manifest.fields.ts';
export { KINDS, kindKey } from './manifest.kinds.ts';
export { describe, type ManifestProblem, validateAgainstSchemas } from './manifest.validator.ts';
export {
  findRegistrations,
  isExported,
  isExternal,
  type MetricRegistration,
  scanRegistrations,
} from './metric-registrations.ts';
export { checkPodSecurity } from './pod-security.rules.ts';
export { metricNamesIn } from './promql.metrics.ts';
export { chartDir, fromRoot, repoRoot } from './repo.paths.ts';
export {
  CONFIG_SCHEMA_EXPORTS,
  type Container,
  type ContainerEnv,
  configProblems,
  containerEnv,
  type EnvField,
  type EnvSchema,
  firstContainer,
  loadConfigSchema,
  requiredVariables,
  serviceNames,
} from './service-config.ts';
