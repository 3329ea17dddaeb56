import { type AuthPluginOptions, authPlugin } from '@happening/auth';
import { databaseReadiness } from '@happening/db';
import { type App, createApp, type ReadinessCheck } from '@happening/service-kit';
import type { Logger } from 'pino';
import type { CatalogDeps } from './app.deps.ts';
import { registerEventCommandRoutes } from './modules/events/event-commands.routes.ts';
import { registerOrgEventRoutes } from './modules/events/org-events.routes.ts';
import { registerPublicEventRoutes } from './modules/events/public-events.routes.ts';

export interface BuildAppOptions extends CatalogDeps {
  auth: AuthPluginOptions;
  logger?: Logger;
  /** Probes besides Postgres that `/readyz` runs (e.g. the broker connection). */
  readinessChecks?: Record<string, ReadinessCheck>;
}

/** The catalog's HTTP app: auth, event routes, health and metrics. Never listens. */
export async function buildApp(options: BuildAppOptions): Promise<App> {
  const { auth, logger, readinessChecks, ...deps } = options;
  const app = createApp({
    name: 'catalog',
    openapi: {
      title: 'Happening catalog API',
      version: '1.0.0',
      description: 'Events: creation, editing, publication, lifecycle, public listing and search.',
    },
    ...(logger ? { logger } : {}),
    readinessChecks: {
      postgres: databaseReadiness(deps.db),
      ...readinessChecks,
    },
  });
  await app.register(authPlugin, auth);
  registerOrgEventRoutes(app, deps);
  registerPublicEventRoutes(app, deps);
  registerEventCommandRoutes(app, deps);
  return app;
}
