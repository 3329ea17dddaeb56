import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { eventually, freePort, startTokenIssuer, type TestTokenIssuer } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAMS, type Upstream } from '../src/route-table.ts';
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

  it('starts and serves while Redis is down, letting requests through the rate limit', async () => {
    const [port, redisPort] = await Promise.all([freePort(), freePort()]);
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        SHUTDOWN_DRAIN_MS: '0',
        // Nothing listens there.
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        IDENTITY_ORG_URL: upstreams['identity-org'].url,
        CATALOG_URL: upstreams.catalog.url,
        BOOKING_URL: upstreams.booking.url,
        NOTIFICATION_URL: upstreams.notification.url,
        OIDC_ISSUER: issuer.issuer,
        OIDC_JWKS_URI: issuer.jwksUri,
        OIDC_AUDIENCE: issuer.audience,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = once(child, 'exit');
    const gateway = `http://127.0.0.1:${port}`;

    let started = false;
    const crashed = exited.then(([code]) => {
      if (!started) throw new Error(`main.ts exited with ${code} before it was ready`);
    });
    await Promise.race([
      crashed,
      eventually(
        async () => (await fetch(`${gateway}/readyz`).catch(() => undefined))?.status === 200,
        { what: 'gateway ready', timeoutMs: 30_000 },
      ),
    ]);
    started = true;
    const response = await fetch(`${gateway}/v1/events`, {
      headers: { authorization: `Bearer ${await issuer.token()}` },
    });
    expect(response.status).toBe(200);
    expect(upstreams.catalog.received.map((r) => r.url)).toContain('/v1/events');

    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});
