import { fileURLToPath } from 'node:url';
import { queueState } from '@happening/messaging/testing';
import {
  eventually,
  type Infra,
  startInfra,
  startServiceMain,
  startTokenIssuer,
  type TestTokenIssuer,
} from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let infra: Infra;
let issuer: TestTokenIssuer;

beforeAll(async () => {
  [infra, issuer] = await Promise.all([startInfra(), startTokenIssuer()]);
});

afterAll(async () => {
  await issuer?.stop();
  await infra?.stop();
});

describe('catalog shutdown', () => {
  it('stops consuming as SIGTERM arrives, while /readyz fails and the drain goes on', async () => {
    const main = await startServiceMain(fileURLToPath(new URL('..', import.meta.url)), {
      RUN_MIGRATIONS: 'true',
      // Long enough for the checks below on a loaded machine; the test waits it out once.
      SHUTDOWN_DRAIN_MS: '3000',
      DATABASE_URL: infra.postgresUrl,
      AMQP_URL: infra.amqpUrl,
      OIDC_ISSUER: issuer.issuer,
      OIDC_JWKS_URI: issuer.jwksUri,
      OIDC_AUDIENCE: issuer.audience,
    });
    const consumers = async () => (await queueState(infra.amqpUrl, 'catalog.events')).consumerCount;
    try {
      expect(await consumers()).toBe(1);
      main.child.kill('SIGTERM');
      // The signal reaches the process asynchronously: the drain has begun once /readyz fails.
      await eventually(async () => (await main.readiness()) === 503, { what: 'the drain started' });
      await eventually(async () => (await consumers()) === 0, { what: 'the consumer gone' });
      // Gone while still draining, not after the drain: the listener is up and tells the load
      // balancer to go elsewhere.
      expect(await main.readiness()).toBe(503);
      expect(await main.exited).toBe(0);
    } finally {
      main.child.kill('SIGKILL');
    }
  });
});
