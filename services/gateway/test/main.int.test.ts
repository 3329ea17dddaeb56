import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  eventually,
  freePort,
  type ServerHandle,
  startRedis,
  startServiceMain,
  startTcpProxy,
  startTokenIssuer,
  type TestTokenIssuer,
} from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAMS, type Upstream } from '../src/route-table.ts';
import { RATE_LIMIT_PREFIX } from '../src/routes/proxy.routes.ts';
import { type EchoUpstream, startEchoUpstream } from './echo-upstream.ts';

// main.ts as the container runs it, so what it does before listening is under test too.
describe('gateway main.ts', () => {
  let issuer: TestTokenIssuer;
  let upstreams: Record<Upstream, EchoUpstream>;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    const echoes = await Promise.all(UPSTREAMS.map((name) => startEchoUpstream(name)));
    upstreams = Object.fromEntries(echoes.map((e) => [e.name, e])) as typeof upstreams;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await Promise.all(Object.values(upstreams ?? {}).map((e) => e.close()));
    await issuer?.stop();
  });

  /** Starts main.ts with Redis at `redisUrl`; resolves once it is ready. */
  async function startMain(redisUrl: string) {
    const main = await startServiceMain(fileURLToPath(new URL('..', import.meta.url)), {
      SHUTDOWN_DRAIN_MS: '0',
      REDIS_URL: redisUrl,
      // Long enough that the requests below all fall within one cool-down, however slow the
      // machine; short enough to see counting resume.
      RATE_LIMIT_REDIS_COOL_DOWN_MS: '15000',
      // A healthy Redis answers well within it even on a loaded machine.
      RATE_LIMIT_REDIS_TIMEOUT_MS: '1000',
      IDENTITY_ORG_URL: upstreams['identity-org'].url,
      CATALOG_URL: upstreams.catalog.url,
      BOOKING_URL: upstreams.booking.url,
      NOTIFICATION_URL: upstreams.notification.url,
      OIDC_ISSUER: issuer.issuer,
      OIDC_JWKS_URI: issuer.jwksUri,
      OIDC_AUDIENCE: issuer.audience,
    });
    child = main.child;
    return { gateway: main.url, exited: main.exited };
  }

  it('lets requests through at once while Redis is silent, asking it again after a cool-down', async () => {
    const redis: ServerHandle = await startRedis();
    const silence = await startTcpProxy(redis.url);
    // Counted as they reach the proxy, also while it holds them.
    const limiterCommands = silence.countSent(RATE_LIMIT_PREFIX);
    try {
      const { gateway, exited } = await startMain(silence.url);
      const token = await issuer.token();
      const call = () =>
        fetch(`${gateway}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
      const counted = (response: Response) =>
        Number(response.headers.get('x-ratelimit-remaining')) <
        Number(response.headers.get('x-ratelimit-limit'));

      const before = await call();
      expect(before.status).toBe(200);
      expect(counted(before)).toBe(true);

      // Redis answers nothing from now on, and never closes: the rate limits give up on it.
      silence.freeze();
      const sentBeforeSilence = limiterCommands();
      for (let i = 0; i < 5; i++) {
        const response = await call();
        expect(response.status).toBe(200);
        // Let through uncounted: the whole limit left, no window.
        expect(response.headers.get('x-ratelimit-remaining')).toBe(
          response.headers.get('x-ratelimit-limit'),
        );
        expect(response.headers.get('x-ratelimit-reset')).toBe('0');
      }
      // The first request's per-IP check waited for Redis; everything after it, for nothing.
      expect(limiterCommands() - sentBeforeSilence).toBeLessThanOrEqual(1);

      silence.thaw();
      await eventually(async () => counted(await call()), {
        timeoutMs: 45_000,
        what: 'requests counted in Redis again',
      });
      child?.kill('SIGTERM');
      await exited;
    } finally {
      await silence.close();
      await redis.stop();
    }
  });

  it('starts and serves while Redis is down, letting requests through the rate limit', async () => {
    // Nothing listens at the Redis port.
    const { gateway, exited } = await startMain(`redis://127.0.0.1:${await freePort()}`);
    const response = await fetch(`${gateway}/v1/events`, {
      headers: { authorization: `Bearer ${await issuer.token()}` },
    });
    expect(response.status).toBe(200);
    expect(upstreams.catalog.received.map((r) => r.url)).toContain('/v1/events');

    child?.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
