import { authOptionsFromConfig, authPlugin } from '@happening/auth';
import { createSealedBoxRing } from '@happening/contracts';
import { databaseReadiness } from '@happening/db';
import { type App, createApp, type ReadinessCheck, sealingKeyList } from '@happening/service-kit';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { registerAuditRoutes } from './modules/audit/audit.routes.ts';
import { registerInviteRoutes } from './modules/invites/invites.routes.ts';
import { registerMemberRoutes } from './modules/members/members.routes.ts';
import { registerOrganizationRoutes } from './modules/organizations/organizations.routes.ts';
import { registerUserRoutes } from './modules/users/users.routes.ts';
import { installCaller } from './shared/caller.hook.ts';
import type { Db } from './shared/database.ts';
import { orgGuards } from './shared/org-access.ts';
import type { RouteDeps } from './shared/route-deps.ts';

export interface AppDeps {
  config: Pick<
    Config,
    | 'OIDC_ISSUER'
    | 'OIDC_AUDIENCE'
    | 'OIDC_JWKS_URI'
    | 'PUBLIC_APP_URL'
    | 'INVITE_TTL_HOURS'
    | 'INVITE_LINK_KEY'
    | 'ORGANIZATIONS_PER_OWNER'
    | 'INVITES_PER_ADDRESS_PER_DAY'
    | 'INVITES_PER_ORG_PER_DAY'
    | 'INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS'
  >;
  db: Db;
  logger?: Logger;
  /** Further `/readyz` checks (e.g. the broker), besides Postgres. */
  readinessChecks?: Record<string, ReadinessCheck>;
}

/** Builds the identity-org HTTP app: every `/v1` route needs a valid token. */
export function buildApp(deps: AppDeps): App {
  const { config, db } = deps;
  const app = createApp({
    name: 'identity-org',
    openapi: {
      title: 'Happening identity-org API',
      version: '1.0.0',
      description: 'People, organizations, memberships and roles, invites and the audit log.',
    },
    ...(deps.logger && { logger: deps.logger }),
    readinessChecks: { postgres: databaseReadiness(db), ...deps.readinessChecks },
  });

  app.register(authPlugin, authOptionsFromConfig(config));

  const routeDeps: RouteDeps = {
    db,
    guards: orgGuards(db),
    organizationsPerOwner: config.ORGANIZATIONS_PER_OWNER,
    invites: {
      publicAppUrl: config.PUBLIC_APP_URL,
      ttlMs: config.INVITE_TTL_HOURS * 3_600_000,
      links: createSealedBoxRing(sealingKeyList(config.INVITE_LINK_KEY)),
      perAddressPerDay: config.INVITES_PER_ADDRESS_PER_DAY,
      perOrganizationPerDay: config.INVITES_PER_ORG_PER_DAY,
      perAddressPerDayAllOrganizations: config.INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS,
    },
  };

  app.register(async (api) => {
    api.addHook('onRequest', api.authenticate);
    installCaller(api, db);
    registerUserRoutes(api, routeDeps);
    registerOrganizationRoutes(api, routeDeps);
    registerMemberRoutes(api, routeDeps);
    registerInviteRoutes(api, routeDeps);
    registerAuditRoutes(api, routeDeps);
  });

  return app;
}
