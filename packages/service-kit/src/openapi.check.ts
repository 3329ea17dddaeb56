import type { FastifyInstance, RouteOptions } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { type OpenApiDocument, operationsOf } from './openapi.document.ts';
import { OPENAPI_PATH, registeredRoutes, UNDOCUMENTED_PATHS } from './openapi.plugin.ts';

type Operation = OpenAPIV3_1.OperationObject;
type Parameter = OpenAPIV3_1.ParameterObject;

/** `/v1/events/:eventId` → `/v1/events/{eventId}`, the OpenAPI spelling of a route path. */
export function openApiPathOf(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameterNames(operation: Operation, location: 'path' | 'query'): string[] {
  return ((operation.parameters ?? []) as Parameter[])
    .filter((p) => p.in === location)
    .map((p) => p.name)
    .sort();
}

function objectKeys(schema: unknown): string[] | undefined {
  const shape = (schema as { shape?: unknown } | undefined)?.shape;
  return shape !== null && typeof shape === 'object' ? Object.keys(shape).sort() : undefined;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function checkOperation(route: RouteOptions, label: string, operation: Operation): string[] {
  const problems: string[] = [];
  const schema = route.schema ?? {};
  const pathParams = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] ?? '').sort();
  const documentedPath = parameterNames(operation, 'path');
  if (!sameList(pathParams, documentedPath)) {
    problems.push(`${label}: path parameters [${documentedPath}] != [${pathParams}]`);
  }
  const queryKeys = objectKeys(schema.querystring);
  const documentedQuery = parameterNames(operation, 'query');
  if (queryKeys !== undefined && !sameList(queryKeys, documentedQuery)) {
    problems.push(`${label}: query parameters [${documentedQuery}] != [${queryKeys}]`);
  }
  if (schema.body !== undefined) {
    const body = operation.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
    if (body?.content?.['application/json']?.schema === undefined) {
      problems.push(`${label}: request body schema is missing`);
    }
  }
  const responses = (schema.response ?? {}) as Record<string, unknown>;
  for (const status of Object.keys(responses)) {
    const documented = operation.responses?.[status] as OpenAPIV3_1.ResponseObject | undefined;
    if (documented === undefined) {
      problems.push(`${label}: response ${status} is not documented`);
    } else if (status !== '204' && documented.content?.['application/json']?.schema === undefined) {
      problems.push(`${label}: response ${status} has no schema`);
    }
  }
  return problems;
}

/**
 * Differences between `doc` and the routes declared on `app`: undocumented routes, documented
 * operations without a route, and path/query parameters, bodies or responses that disagree.
 */
export function openApiMismatches(app: FastifyInstance, doc: OpenApiDocument): string[] {
  const problems: string[] = [];
  const routeKeys = new Set<string>();
  for (const route of registeredRoutes(app)) {
    if (UNDOCUMENTED_PATHS.includes(route.url) || route.schema?.hide) continue;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods.map((m) => m.toLowerCase())) {
      if (method === 'head') continue;
      const path = openApiPathOf(route.url);
      const label = `${method.toUpperCase()} ${path}`;
      routeKeys.add(`${method} ${path}`);
      const operation = doc.paths?.[path]?.[method as 'get'];
      if (operation === undefined) problems.push(`${label}: not documented`);
      else problems.push(...checkOperation(route, label, operation));
    }
  }
  for (const [path, method] of operationsOf(doc)) {
    if (!routeKeys.has(`${method} ${path}`)) {
      problems.push(`${method.toUpperCase()} ${path}: documented but no such route`);
    }
  }
  return problems;
}

/** `app`'s `/openapi.json`, parsed; throws unless it answers 200. */
export async function fetchOpenApiDocument(app: FastifyInstance): Promise<OpenApiDocument> {
  const res = await app.inject({ method: 'GET', url: OPENAPI_PATH });
  if (res.statusCode !== 200) {
    throw new Error(`GET ${OPENAPI_PATH} answered ${res.statusCode}: ${res.body}`);
  }
  return res.json<OpenApiDocument>();
}

/** Fetches `app`'s `/openapi.json` and throws listing every mismatch with its routes. */
export async function assertOpenApiMatchesRoutes(app: FastifyInstance): Promise<void> {
  const problems = openApiMismatches(app, await fetchOpenApiDocument(app));
  if (problems.length > 0) {
    throw new Error(`OpenAPI document does not match the routes:\n  ${problems.join('\n  ')}`);
  }
}
