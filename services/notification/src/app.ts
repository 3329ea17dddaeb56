import { authOptionsFromConfig, authPlugin } from '@happening/auth';
import { databaseReadiness } from '@happening/db';
import { type App, createApp, type ReadinessCheck } from '@happening/service-kit';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { NotificationDb } from './database.ts';
import { registerNotificationRoutes } from './modules/notifications/notification.routes.ts';
import { registerPreferenceRoutes } from './modules/preferences/preference.routes.ts';

export interface AppDeps {
  config: Pick<Config, 'OIDC_ISSUER' | 'OIDC_AUDIENCE' | 'OIDC_JWKS_URI'>;
  db: Kysely<NotificationDb>;
  logger?: Logger;
  /** Further `/readyz` checks (e.g. the broker), besides Postgres. */
  readinessChecks?: Record<string, ReadinessCheck>;
}

/** Builds the notification HTTP app: every `/v1` route needs a valid token. */
export function buildApp(deps: AppDeps): App {
  const { config, db } = deps;
  const app = createApp({
    name: 'notification',
    openapi: {
      title: 'Happening notification API',
      version: '1.0.0',
      description:
        'The caller’s notifications and notification preferences, and retries of failed deliveries.',
    },
    ...(deps.logger && { logger: deps.logger }),
    readinessChecks: { postgres: databaseReadiness(db), ...deps.readinessChecks },
  });

  app.register(authPlugin, authOptionsFromConfig(config));

  app.register(async (api) => {
    api.addHook('onRequest', api.authenticate);
    registerNotificationRoutes(api, db);
    registerPreferenceRoutes(api, db);
  });

  return app;
}
