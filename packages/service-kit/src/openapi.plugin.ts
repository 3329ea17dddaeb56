import { fastifySwagger } from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { type OpenApiDocument, withPlatformConventions } from './openapi.document.ts';

/** Title, version and description of a service's OpenAPI document. */
export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** Where each service serves its OpenAPI document. */
export const OPENAPI_PATH = '/openapi.json';

/** Operational routes that are not part of the API and stay out of the document. */
export const UNDOCUMENTED_PATHS: readonly string[] = [
  '/healthz',
  '/readyz',
  '/metrics',
  OPENAPI_PATH,
];

const zodTransform = createJsonSchemaTransform({ skipList: [...UNDOCUMENTED_PATHS] });

// The zod transform only consults its skip list for routes that have a schema.
const transform: typeof zodTransform = (input) =>
  UNDOCUMENTED_PATHS.includes(input.url)
    ? { schema: { hide: true }, url: input.url }
    : zodTransform(input);

const routesByApp = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Every route declared on `app` since `createApp` built it (HEAD twins excluded). */
export function registeredRoutes(app: FastifyInstance): readonly RouteOptions[] {
  return routesByApp.get(app) ?? [];
}

/**
 * Collects route schemas into an OpenAPI 3.1 document served at `/openapi.json` (no auth).
 * Runs synchronously so routes declared right after `createApp` are collected too.
 */
export function installOpenApi(app: FastifyInstance, info: OpenApiInfo): void {
  const routes: RouteOptions[] = [];
  routesByApp.set(app, routes);
  app.addHook('onRoute', (route) => {
    if (route.method !== 'HEAD') routes.push(route);
  });

  // The plugin body is synchronous; calling it directly (instead of app.register, which defers
  // it to ready()) installs its onRoute hook before any service route is declared.
  fastifySwagger(
    app,
    {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: info.title,
          version: info.version,
          ...(info.description === undefined ? {} : { description: info.description }),
        },
      },
      transform,
      transformObject: (input) =>
        withPlatformConventions(jsonSchemaTransformObject(input) as OpenApiDocument),
    },
    (error) => {
      if (error) throw error;
    },
  );

  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
