export { type App, type CreateAppOptions, createApp } from './app.factory.ts';
export {
  baseConfigSchema,
  ConfigError,
  databasePoolSize,
  envFlag,
  envList,
  loadConfig,
  sealingKey,
  sealingKeyList,
  sealingKeys,
} from './config.loader.ts';
export { isDependencyUnavailable } from './dependency-failure.ts';
export { DomainError, isDomainError } from './domain-error.ts';
export {
  idempotencyKeyHeadersSchema,
  idempotentRequestOf,
  sendIdempotent,
} from './idempotency-key.ts';
export {
  assertVersion,
  type ExpectedVersion,
  ifMatchHeadersSchema,
  ifMatchVersion,
  versionMismatch,
  withEtag,
} from './if-match.ts';
export { createLogger } from './logger.ts';
export { httpRequestDuration, metricsRegistry } from './metrics.registry.ts';
export type { ReadinessCheck } from './observability.routes.ts';
export {
  assertOpenApiMatchesRoutes,
  fetchOpenApiDocument,
  openApiMismatches,
  openApiPathOf,
} from './openapi.check.ts';
export {
  answersWithEtag,
  answersWithLocation,
  BEARER_SCHEME,
  type OpenApiDocument,
  operationsOf,
  withPlatformConventions,
} from './openapi.document.ts';
export {
  type DocumentedOperation,
  documentedOperation,
  type JsonSchemaNode,
  parameterNames,
  requestBodySchema,
  responseBodySchema,
} from './openapi.inspect.ts';
export {
  OPENAPI_PATH,
  type OpenApiInfo,
  registeredRoutes,
  UNDOCUMENTED_PATHS,
} from './openapi.plugin.ts';
export {
  cursorBigint,
  cursorTimestamp,
  decodeCursor,
  encodeCursor,
  type PageQuery,
  pageLimit,
  pageQuerySchema,
  toPage,
} from './pagination.ts';
export {
  type FieldError,
  MAX_FIELD_ERRORS,
  PROBLEM_CONTENT_TYPE,
  type ProblemBody,
  problem,
  sendProblem,
} from './problem.ts';
export { type RepeatingJob, startRepeatingJob } from './repeating-job.ts';
export { REQUEST_ID_HEADER } from './request-id.ts';
export {
  CLOSE_GRACE_MS,
  type CloseHook,
  type RunningService,
  type RunServiceOptions,
  runService,
} from './service.runner.ts';
export { toStorableText } from './storable-input.ts';
