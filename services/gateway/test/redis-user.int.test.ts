import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  connectionAclRules,
  type ServerHandle,
  startRedis,
  startServiceMain,
  startTokenIssuer,
  type TestTokenIssuer,
} from '@happening/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAMS, type Upstream } from '../src/route-table.ts';
import { RATE_LIMIT_PREFIX } from '../src/routes/proxy.routes.ts';
import { type EchoUpstream, startEchoUpstream } from './echo-upstream.ts';

// The ACL docs/operations.md ("Redis users per service") gives the gateway's Redis user: its
// rate-limit counters, and the commands @fastify/rate-limit's Lua script runs on them (EVALSHA,
// EVAL when the script is not cached yet). ioredis asks INFO before it calls the connection
// ready, and SELECTs the URL's database when it is not 0.
const GATEWAY_ACL = [
  'reset',
  'on',
  '>gateway-s3cret',
  `~${RATE_LIMIT_PREFIX}*`,
  '+evalsha',
  '+eval',
  '+incr',
  '+pexpire',
  '+pttl',
  '+info',
  '+select',
];

// An event's seat inventory as booking keeps it (services/booking/src/redis/inventory.keys.ts).
const SLOTS = 'event:{0f6a3b8e-1111-4c4c-9c9c-123456789abc}:slots';

// main.ts as the container runs it, connecting to Redis as the gateway's own user.
describe('the gateway as its own Redis user', () => {
  let redisServer: ServerHandle;
  let admin: Redis;
  let issuer: TestTokenIssuer;
  let upstreams: EchoUpstream[];
  let child: ChildProcess | undefined;
  let gatewayUrl: string;
  let redisUrl: string;

  beforeAll(async () => {
    [redisServer, issuer, upstreams] = await Promise.all([
      startRedis(),
      startTokenIssuer(),
      Promise.all(UPSTREAMS.map((name) => startEchoUpstream(name))),
    ]);
    admin = new Redis(redisServer.url);
    await admin.call(
      'ACL',
      'SETUSER',
      'gateway',
      ...GATEWAY_ACL,
      ...connectionAclRules(await admin.info('server')),
    );
    await admin.set(SLOTS, '40');
    const url = new URL(redisServer.url);
    url.username = 'gateway';
    url.password = 'gateway-s3cret';
    redisUrl = url.toString();
    const upstreamUrl = (name: Upstream) => upstreams.find((u) => u.name === name)!.url;
    const main = await startServiceMain(fileURLToPath(new URL('..', import.meta.url)), {
      SHUTDOWN_DRAIN_MS: '0',
      REDIS_URL: redisUrl,
      // A healthy Redis answers well within it even on a loaded machine.
      RATE_LIMIT_REDIS_TIMEOUT_MS: '1000',
      RATE_LIMIT_PER_MINUTE: '3',
      IDENTITY_ORG_URL: upstreamUrl('identity-org'),
      CATALOG_URL: upstreamUrl('catalog'),
      BOOKING_URL: upstreamUrl('booking'),
      NOTIFICATION_URL: upstreamUrl('notification'),
      OIDC_ISSUER: issuer.issuer,
      OIDC_JWKS_URI: issuer.jwksUri,
      OIDC_AUDIENCE: issuer.audience,
    });
    child = main.child;
    gatewayUrl = main.url;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    admin?.disconnect();
    await Promise.all((upstreams ?? []).map((e) => e.close()));
    await Promise.all([issuer?.stop(), redisServer?.stop()]);
  });

  it('counts requests in Redis and refuses the one over the limit, with no command refused', async () => {
    const token = await issuer.token();
    const call = () =>
      fetch(`${gatewayUrl}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    // The rate limits let requests through uncounted until the connection is ready.
    let first = await call();
    for (let i = 0; i < 50 && first.headers.get('x-ratelimit-reset') === '0'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      first = await call();
    }
    expect(first.status).toBe(200);
    const remaining = Number(first.headers.get('x-ratelimit-remaining'));
    expect(remaining).toBeLessThan(3);
    for (let i = 0; i < remaining; i++) expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(429);

    expect(await admin.keys(`${RATE_LIMIT_PREFIX}*`)).not.toHaveLength(0);
    // Nothing the gateway sent was refused, not even a command whose error it would ignore.
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });

  it("is refused booking's seat inventory, also through a script", async () => {
    const gateway = new Redis(redisUrl);
    try {
      await expect(gateway.set(SLOTS, '0')).rejects.toThrow(/NOPERM/);
      await expect(gateway.incr(SLOTS)).rejects.toThrow(/NOPERM/);
      await expect(gateway.get(SLOTS)).rejects.toThrow(/NOPERM/);
      // A script's declared keys are checked, and so is each command it runs, with its keys.
      await expect(gateway.eval("return redis.call('INCR', KEYS[1])", 1, SLOTS)).rejects.toThrow(
        /NOPERM/,
      );
      await expect(gateway.eval(`return redis.call('INCR', '${SLOTS}')`, 0)).rejects.toThrow(
        /can't access at least one of the keys/,
      );
      await expect(gateway.eval(`return redis.call('DEL', '${SLOTS}')`, 0)).rejects.toThrow(
        /can't run this command/,
      );
      for (const command of [
        ['FLUSHALL'],
        ['FLUSHDB'],
        ['KEYS', '*'],
        ['SCAN', '0'],
        ['SCRIPT', 'FLUSH'],
        ['CONFIG', 'SET', 'maxmemory', '1'],
        ['ACL', 'SETUSER', 'gateway', 'allkeys'],
      ]) {
        await expect(
          gateway.call(command[0]!, ...command.slice(1)),
          command.join(' '),
        ).rejects.toThrow(/NOPERM/);
      }
      expect(await admin.get(SLOTS)).toBe('40');
    } finally {
      gateway.disconnect();
    }
  });

  it('stops cleanly', async () => {
    const exited = once(child!, 'exit');
    child!.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });
});
