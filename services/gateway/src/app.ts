import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import { authOptionsFromConfig, authPlugin } from '@happening/auth';
import { type App, createApp, createLogger } from '@happening/service-kit';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.ts';
import { createFirstContact } from './first-contact.ts';
import type { Upstream } from './route-table.ts';
import { openApiRoutes } from './routes/openapi.routes.ts';
import { proxyRoutes } from './routes/proxy.routes.ts';

export interface GatewayDeps {
  config: GatewayConfig;
  /** Holds the rate-limit counters (under `gateway:ratelimit:`). */
  redis: Redis;
  /** Defaults to a logger at the configured `LOG_LEVEL`. */
  logger?: Logger;
}

/** Base URL of each upstream service, from the configuration. */
export function upstreamUrls(config: GatewayConfig): Record<Upstream, string> {
  const strip = (url: string) => url.replace(/\/+$/, '');
  return {
    'identity-org': strip(config.IDENTITY_ORG_URL),
    catalog: strip(config.CATALOG_URL),
    booking: strip(config.BOOKING_URL),
    notification: strip(config.NOTIFICATION_URL),
  };
}

/** The gateway: one origin forwarding `/v1/*` by the route map, plus the merged API reference. */
export async function buildGateway(deps: GatewayDeps): Promise<App> {
  const { config, redis } = deps;
  const upstreams = upstreamUrls(config);
  const logger = deps.logger ?? createLogger({ name: 'gateway', level: config.LOG_LEVEL });
  const app = createApp({
    name: 'gateway',
    logger,
    openapi: false,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Trust exactly the configured hops, so clients cannot pick their own rate-limit key.
    trustProxy: (_address, hop) => hop < config.TRUSTED_PROXY_HOPS,
    // No readiness checks on Redis or the upstreams: the gateway serves without either (the rate
    // limiter lets requests through when Redis fails; an upstream down answers 503 for its own
    // routes only), and a check on them would take every replica out of rotation at once.
  });
  // Every request gets an id of the gateway's own, never the client's `x-request-id`: the services
  // keep an incoming id, and it becomes the correlation id of their events and the request id of
  // identity-org's audit rows, which a caller could otherwise make different actors share. The
  // client's id is passed on as `x-client-request-id` (proxy routes).
  app.setGenReqId(() => randomUUID());

  const firstContact = createFirstContact({
    identityOrgUrl: upstreams['identity-org'],
    logger: logger.child({ component: 'first-contact' }),
    timeoutMs: Math.min(config.UPSTREAM_TIMEOUT_MS, 5000),
  });
  app.addHook('onClose', async () => firstContact.close());

  await app.register(cors, {
    origin: config.CORS_ORIGINS.length > 0 ? [...config.CORS_ORIGINS] : false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: [
      'x-request-id',
      'retry-after',
      'etag',
      'location',
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
    ],
    maxAge: 600,
    // An OPTIONS without Access-Control-Request-Method is answered like a preflight, not with
    // the plugin's text/plain 400, which no other error of the API looks like.
    strictPreflight: false,
  });
  await app.register(authPlugin, authOptionsFromConfig(config));
  await app.register(openApiRoutes, {
    upstreams,
    info: {
      title: 'Happening API',
      version: '1.0.0',
      description: 'Organizations, events, bookings and notifications, through one gateway.',
    },
    timeoutMs: Math.min(config.UPSTREAM_TIMEOUT_MS, 5000),
  });
  await app.register(proxyRoutes, {
    upstreams,
    redis,
    rateLimit: {
      perSubjectPerMinute: config.RATE_LIMIT_PER_MINUTE,
      perIpPerMinute: config.RATE_LIMIT_PER_IP_PER_MINUTE,
      redisCoolDownMs: config.RATE_LIMIT_REDIS_COOL_DOWN_MS,
    },
    upstreamTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
    bodyLimit: config.BODY_LIMIT_BYTES,
    firstContact,
  });
  return app;
}
