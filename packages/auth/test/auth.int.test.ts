import type { Role } from '@happening/contracts';
import { type App, createApp, createLogger } from '@happening/service-kit';
import { freePort, startTokenIssuer, type TestTokenIssuer } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthPluginOptions,
  authOptionsFromConfig,
  authPlugin,
  type JwksOptions,
  requireOrgRole,
} from '../src/index.ts';
import { DEFAULT_JWKS_COOLDOWN_MS } from '../src/jwks.key-resolver.ts';
import {
  claims,
  hs256WithPublicKey,
  kidOf,
  signedByStranger,
  unsignedToken,
  unverifiableToken,
} from './forged-tokens.ts';

const PROBLEM = 'application/problem+json; charset=utf-8';
const ORG = '11111111-1111-4111-8111-111111111111';

async function buildApp(options: AuthPluginOptions): Promise<App> {
  const app = createApp({
    name: 'auth-test',
    logger: createLogger({ name: 'auth-test', level: 'silent' }),
  });
  await app.register(authPlugin, options);
  app.get('/v1/me', { onRequest: app.authenticate }, async (request) => request.principal);
  await app.ready();
  return app;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Runs `use` with an issuer of its own and an app verifying its tokens with `jwks`, then stops both. */
async function withOwnIssuer(
  jwks: JwksOptions,
  use: (issuer: TestTokenIssuer, app: App) => Promise<void>,
): Promise<void> {
  const issuer = await startTokenIssuer();
  const app = await buildApp({ issuer: issuer.issuer, audience: issuer.audience, jwks });
  try {
    await use(issuer, app);
  } finally {
    await app.close();
    await issuer.stop();
  }
}

describe('authPlugin', () => {
  let issuer: TestTokenIssuer;
  let app: App;

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    // The JWKS location is derived from the issuer, as with Keycloak.
    app = await buildApp({ issuer: issuer.issuer, audience: issuer.audience });
  });

  afterAll(async () => {
    await app?.close();
    await issuer?.stop();
  });

  async function expectRejected(headers: Record<string, string>, detail = 'Invalid token.') {
    const res = await app.inject({ url: '/v1/me', headers });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="happening"/);
    expect(res.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', detail });
    return res;
  }

  it('accepts a valid token and exposes the principal', async () => {
    const token = await issuer.token({
      sub: '6a1f2d34-5b6c-4d7e-8f90-a1b2c3d4e5f6',
      email: 'ada@example.test',
      name: 'Ada Lovelace',
    });
    const res = await app.inject({ url: '/v1/me', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      sub: '6a1f2d34-5b6c-4d7e-8f90-a1b2c3d4e5f6',
      email: 'ada@example.test',
      emailVerified: true,
      name: 'Ada Lovelace',
      issuedAt: expect.any(Number),
    });
  });

  it('takes the scheme name in any case (RFC 9110)', async () => {
    const token = await issuer.token();
    const res = await app.inject({ url: '/v1/me', headers: { authorization: `bearer ${token}` } });
    expect(res.statusCode).toBe(200);
  });

  it('rejects a request without a token, saying only that it is missing', async () => {
    const res = await expectRejected({}, 'Missing bearer token.');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="happening"');
  });

  it.each([
    ['a malformed token', 'Bearer not.a.jwt'],
    ['a non-bearer scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty bearer', 'Bearer '],
    ['two tokens', 'Bearer a.b.c d.e.f'],
  ])('rejects %s', async (_label, authorization) => {
    const res = await expectRejected({ authorization });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="happening", error="invalid_token"');
  });

  it('rejects an expired token without saying why', async () => {
    const res = await expectRejected(bearer(await issuer.token({ expiresIn: -60 })));
    expect(res.body).not.toMatch(/expire/i);
  });

  it('rejects a token that is not valid yet (nbf)', async () => {
    await expectRejected(bearer(await issuer.token({ notBefore: 600 })));
  });

  it('rejects a token from another issuer', async () => {
    await expectRejected(
      bearer(await issuer.token({ issuer: 'https://evil.example/realms/happening' })),
    );
  });

  it('rejects a token for another audience', async () => {
    await expectRejected(bearer(await issuer.token({ audience: 'other-api' })));
  });

  it('rejects an unsigned token (alg: none)', async () => {
    await expectRejected(bearer(unsignedToken(claims(issuer.issuer, issuer.audience))));
  });

  it('rejects an HS256 token keyed with the RSA public key (algorithm confusion)', async () => {
    const kid = kidOf(await issuer.token());
    const payload = claims(issuer.issuer, issuer.audience);
    await expectRejected(bearer(hs256WithPublicKey(payload, issuer.publicKeyPem, kid)));
    await expectRejected(bearer(hs256WithPublicKey(payload, issuer.publicKeyPem)));
  });

  it('rejects a token naming an unknown kid, once the key set was fetched for it', async () => {
    // This app fetched the key set for an earlier test; a fresh one fetches it for this token.
    await withOwnIssuer({}, async (own, ownApp) => {
      const res = await ownApp.inject({
        url: '/v1/me',
        headers: bearer(await own.token({ kid: 'not-a-published-key' })),
      });
      expect(res.statusCode, res.body).toBe(401);
      expect(res.headers['www-authenticate']).toBe(
        'Bearer realm="happening", error="invalid_token"',
      );
    });
  });

  it('rejects a token signed by another key under a published kid', async () => {
    const kid = kidOf(await issuer.token());
    await expectRejected(
      bearer(await signedByStranger(claims(issuer.issuer, issuer.audience), kid)),
    );
  });

  it.each([
    ['an ID token', 'ID'],
    ['a refresh token', 'Refresh'],
    ['a lower-case bearer type', 'bearer'],
    ['a non-string type', 1],
  ])('rejects %s, though signed for the audience', async (_label, typ) => {
    await expectRejected(bearer(await issuer.token({ extraClaims: { typ } })));
  });

  it('accepts a token without a typ claim', async () => {
    const res = await app.inject({
      url: '/v1/me',
      headers: bearer(await issuer.token({ extraClaims: { typ: undefined } })),
    });
    expect(res.statusCode).toBe(200);
  });

  it('rejects a token with an empty subject', async () => {
    await expectRejected(bearer(await issuer.token({ sub: '' })));
  });

  it('answers 503 AUTH_UNAVAILABLE when the key set cannot be fetched', async () => {
    const port = await freePort();
    const broken = await buildApp({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: `http://127.0.0.1:${port}/certs`,
    });
    const res = await broken.inject({ url: '/v1/me', headers: bearer(await issuer.token()) });
    await broken.close();
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'AUTH_UNAVAILABLE', retryAfterSeconds: 2 });
    expect(res.headers['retry-after']).toBe('2');
  });

  it('takes its options from the OIDC_* settings, the key set from OIDC_JWKS_URI when set', async () => {
    const settings = { OIDC_ISSUER: issuer.issuer, OIDC_AUDIENCE: issuer.audience };
    const derived = await buildApp(
      authOptionsFromConfig({ ...settings, OIDC_JWKS_URI: undefined }),
    );
    const token = await issuer.token();
    const accepted = await derived.inject({ url: '/v1/me', headers: bearer(token) });
    await derived.close();
    expect(accepted.statusCode).toBe(200);

    const elsewhere = `http://127.0.0.1:${await freePort()}/certs`;
    const pointed = await buildApp(
      authOptionsFromConfig({ ...settings, OIDC_JWKS_URI: elsewhere }),
    );
    const unreachable = await pointed.inject({ url: '/v1/me', headers: bearer(token) });
    await pointed.close();
    expect(unreachable.statusCode).toBe(503);
  });
});

describe('key rotation', () => {
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const me = (app: App, token: string) => app.inject({ url: '/v1/me', headers: bearer(token) });

  /** Expects 503 AUTH_UNAVAILABLE within the default cooldown; waits out its Retry-After. */
  async function expectNotYet(app: App, token: string) {
    const res = await me(app, token);
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json()).toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(DEFAULT_JWKS_COOLDOWN_MS / 1000);
    expect(res.json().retryAfterSeconds).toBe(retryAfter);
    return () => pause(retryAfter * 1000);
  }

  it('answers 503 with Retry-After, never 401, to a token of a key rotated in just after a fetch', async () => {
    // The production defaults: no JWKS tuning.
    await withOwnIssuer({}, async (issuer, app) => {
      const before = await issuer.token();
      expect((await me(app, before)).statusCode).toBe(200);

      await issuer.rotateKey();
      const after = await issuer.token();
      const waitRetryAfter = await expectNotYet(app, after);
      await waitRetryAfter();
      const retried = await me(app, after);
      expect(retried.statusCode, retried.body).toBe(200);
      expect((await me(app, before)).statusCode).toBe(200);
    });
  }, 30_000);

  it('answers 401 to a kid that never exists once a fetch since it was first named lacked it', async () => {
    await withOwnIssuer({}, async (issuer, app) => {
      expect((await me(app, await issuer.token())).statusCode).toBe(200);
      const madeUp = await issuer.token({ kid: 'never-published' });
      // Just after a fetch, it cannot be told from a key rotated in since.
      await (await expectNotYet(app, madeUp))();
      // Its retry has the key set fetched again, without it.
      expect((await me(app, madeUp)).statusCode).toBe(401);
      expect((await me(app, madeUp)).statusCode).toBe(401);

      // Named during a cooldown, then another token has the key set fetched: 401 at once.
      const other = await issuer.token({ kid: 'never-published-either' });
      const waitRetryAfter = await expectNotYet(app, other);
      await waitRetryAfter();
      await issuer.rotateKey();
      expect((await me(app, await issuer.token())).statusCode).toBe(200);
      const refused = await me(app, other);
      expect(refused.statusCode, refused.body).toBe(401);
      expect(refused.headers['www-authenticate']).toBe(
        'Bearer realm="happening", error="invalid_token"',
      );
    });
  }, 30_000);

  it('answers 401 at once to a kid the key set held once and no longer holds', async () => {
    await withOwnIssuer({}, async (issuer, app) => {
      const retired = await issuer.token();
      expect((await me(app, retired)).statusCode).toBe(200);
      await issuer.rotateKey();
      issuer.retireOldKeys();
      // A token of the new key has the key set fetched again (once the cooldown allows).
      await (await expectNotYet(app, await issuer.token()))();
      expect((await me(app, await issuer.token())).statusCode).toBe(200);
      const res = await me(app, retired);
      expect(res.statusCode, res.body).toBe(401);
    });
  }, 30_000);

  it('verifies tokens signed with a newly published key, and still the old ones', async () => {
    // No cooldown: the unknown new kid has the key set fetched again at once.
    await withOwnIssuer({ cooldownMs: 0 }, async (issuer, app) => {
      const before = await issuer.token();
      expect((await app.inject({ url: '/v1/me', headers: bearer(before) })).statusCode).toBe(200);

      await issuer.rotateKey();
      const after = await issuer.token();
      expect(kidOf(after)).not.toBe(kidOf(before));
      expect((await app.inject({ url: '/v1/me', headers: bearer(after) })).statusCode).toBe(200);
      expect((await app.inject({ url: '/v1/me', headers: bearer(before) })).statusCode).toBe(200);
    });
  });
});

describe('an issuer that cannot be reached', () => {
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('keeps verifying tokens with the keys its key set held; only an unknown kid answers 503', async () => {
    // Fetched again on the next request after 100 ms, as after 10 minutes by default.
    await withOwnIssuer({ cacheMaxAgeMs: 100, cooldownMs: 0 }, async (issuer, app) => {
      const known = await issuer.token();
      expect((await app.inject({ url: '/v1/me', headers: bearer(known) })).statusCode).toBe(200);
      await issuer.rotateKey();
      const unseen = await issuer.token();
      await issuer.stop();
      await pause(200);
      const stillKnown = await app.inject({ url: '/v1/me', headers: bearer(known) });
      expect(stillKnown.statusCode, stillKnown.body).toBe(200);
      const unknown = await app.inject({ url: '/v1/me', headers: bearer(unseen) });
      expect(unknown.statusCode).toBe(503);
      expect(unknown.json()).toMatchObject({ code: 'AUTH_UNAVAILABLE' });
      expect(unknown.headers['retry-after']).toBe('2');
    });
  });

  it('keeps its keys when a stranger sends a header naming a real kid with another algorithm', async () => {
    await withOwnIssuer({ cacheMaxAgeMs: 100, cooldownMs: 0 }, async (issuer, app) => {
      const token = await issuer.token();
      expect((await app.inject({ url: '/v1/me', headers: bearer(token) })).statusCode).toBe(200);
      for (const alg of ['ES256', 'HS256', 'PS256']) {
        const forged = unverifiableToken(
          { alg, kid: kidOf(token) },
          claims(issuer.issuer, issuer.audience),
        );
        const refused = await app.inject({ url: '/v1/me', headers: bearer(forged) });
        expect(refused.statusCode, alg).toBe(401);
      }
      await issuer.stop();
      await pause(250);
      const still = await app.inject({ url: '/v1/me', headers: bearer(token) });
      expect(still.statusCode, still.body).toBe(200);
    });
  });

  it('does not bring back a key the issuer removed from its key set', async () => {
    await withOwnIssuer({ cacheMaxAgeMs: 100, cooldownMs: 0 }, async (issuer, app) => {
      const leaked = await issuer.token();
      expect((await app.inject({ url: '/v1/me', headers: bearer(leaked) })).statusCode).toBe(200);
      await issuer.rotateKey();
      issuer.retireOldKeys();
      await pause(150);
      // Another caller's token has the key set fetched again, without the removed key.
      const current = await issuer.token();
      expect((await app.inject({ url: '/v1/me', headers: bearer(current) })).statusCode).toBe(200);
      await issuer.stop();
      await pause(150);
      for (let attempt = 0; attempt < 2; attempt++) {
        // The first meets the failed fetch, the second the pause after it.
        const res = await app.inject({ url: '/v1/me', headers: bearer(leaked) });
        expect(res.statusCode, res.body).toBe(401);
      }
      const stillCurrent = await app.inject({ url: '/v1/me', headers: bearer(current) });
      expect(stillCurrent.statusCode, stillCurrent.body).toBe(200);
    });
  });

  it('stops trusting a kept key maxStaleMs after the key set last held it', async () => {
    await withOwnIssuer({ cacheMaxAgeMs: 100, maxStaleMs: 150 }, async (issuer, app) => {
      const token = await issuer.token();
      expect((await app.inject({ url: '/v1/me', headers: bearer(token) })).statusCode).toBe(200);
      await issuer.stop();
      await pause(250);
      expect((await app.inject({ url: '/v1/me', headers: bearer(token) })).statusCode).toBe(503);
    });
  });
});

describe('requireOrgRole', () => {
  let issuer: TestTokenIssuer;
  let app: App;
  const ADMIN = 'aaaaaaaa-0000-4000-8000-000000000001';
  const MEMBER = 'aaaaaaaa-0000-4000-8000-000000000002';
  const STRANGER = 'aaaaaaaa-0000-4000-8000-000000000003';
  const memberships = new Map<string, Role>([
    [`${ORG}/${ADMIN}`, 'orgAdmin'],
    [`${ORG}/${MEMBER}`, 'user'],
  ]);
  const lookups: Array<[string, string]> = [];

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    app = createApp({
      name: 'rbac-test',
      logger: createLogger({ name: 'auth-test', level: 'silent' }),
    });
    await app.register(authPlugin, { issuer: issuer.issuer, audience: issuer.audience });
    const guard = requireOrgRole(
      async (orgId, userId) => {
        lookups.push([orgId, userId]);
        return memberships.get(`${orgId}/${userId}`);
      },
      ['orgAdmin', 'organizer'],
      (request) => (request.params as { orgId?: string }).orgId,
    );
    app.get(
      '/v1/orgs/:orgId/settings',
      { onRequest: app.authenticate, preHandler: guard },
      async () => ({ ok: true }),
    );
    app.get('/v1/unguarded/settings', { preHandler: guard }, async () => ({ ok: true }));
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await issuer?.stop();
  });

  const get = async (sub: string, orgId = ORG) =>
    app.inject({ url: `/v1/orgs/${orgId}/settings`, headers: bearer(await issuer.token({ sub })) });

  it('lets a member with an allowed role through, asking the lookup with the token subject', async () => {
    const res = await get(ADMIN);
    expect(res.statusCode).toBe(200);
    expect(lookups).toContainEqual([ORG, ADMIN]);
  });

  it('answers 403 FORBIDDEN to a member without the role', async () => {
    const res = await get(MEMBER);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('answers 404 ORGANIZATION_NOT_FOUND to a non-member, as for an organization that does not exist', async () => {
    const stranger = await get(STRANGER);
    const missing = await get(ADMIN, '22222222-2222-4222-8222-222222222222');
    expect(stranger.statusCode).toBe(404);
    expect(stranger.json()).toMatchObject({ code: 'ORGANIZATION_NOT_FOUND' });
    expect(missing.json()).toEqual(stranger.json());
  });

  it('answers 401 when no authenticated principal precedes it', async () => {
    const res = await app.inject({ url: '/v1/unguarded/settings' });
    expect(res.statusCode).toBe(401);
  });
});
