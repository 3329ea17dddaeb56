import { once } from 'node:events';
import type { App } from '@happening/service-kit';
import { freePort, startRedis, startTokenIssuer, type TestTokenIssuer } from '@happening/testkit';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildGateway } from '../src/app.ts';
import { type GatewayConfig, loadGatewayConfig } from '../src/config.ts';
import { UPSTREAMS, type Upstream } from '../src/route-table.ts';
import { type EchoUpstream, startEchoUpstream } from './echo-upstream.ts';

export interface Harness {
  issuer: TestTokenIssuer;
  redis: Redis;
  upstreams: Record<Upstream, EchoUpstream>;
  /**
   * Builds a gateway over the echo upstreams; `env` overrides its configuration, `logger` its
   * logger (silent by default).
   */
  gateway(env?: Record<string, string>, logger?: Logger): Promise<App>;
  /** A port on which nothing listens. */
  deadUrl: string;
  stop(): Promise<void>;
}

/** Real Redis, a real token issuer and one echo upstream per service. */
export async function startHarness(
  documented: Partial<Record<Upstream, Record<string, readonly string[]>>> = {},
): Promise<Harness> {
  const [redisServer, issuer] = await Promise.all([startRedis(), startTokenIssuer()]);
  const redis = new Redis(redisServer.url);
  // The rate limits let requests through uncounted until Redis is ready.
  const [echoes] = await Promise.all([
    Promise.all(UPSTREAMS.map((name) => startEchoUpstream(name, documented[name] ?? {}))),
    once(redis, 'ready'),
  ]);
  const upstreams = Object.fromEntries(echoes.map((e) => [e.name, e])) as Record<
    Upstream,
    EchoUpstream
  >;
  const deadUrl = `http://127.0.0.1:${await freePort()}`;
  const apps: App[] = [];

  return {
    issuer,
    redis,
    upstreams,
    deadUrl,
    async gateway(env = {}, logger) {
      const config: GatewayConfig = loadGatewayConfig({
        IDENTITY_ORG_URL: upstreams['identity-org'].url,
        CATALOG_URL: upstreams.catalog.url,
        BOOKING_URL: upstreams.booking.url,
        NOTIFICATION_URL: upstreams.notification.url,
        REDIS_URL: redisServer.url,
        OIDC_ISSUER: issuer.issuer,
        OIDC_JWKS_URI: issuer.jwksUri,
        OIDC_AUDIENCE: issuer.audience,
        LOG_LEVEL: 'silent',
        ...env,
      });
      const app = await buildGateway({ config, redis, ...(logger && { logger }) });
      await app.ready();
      apps.push(app);
      return app;
    },
    async stop() {
      await Promise.all(apps.map((app) => app.close()));
      await Promise.all(echoes.map((e) => e.close()));
      redis.disconnect();
      await Promise.all([issuer.stop(), redisServer.stop()]);
    },
  };
}
