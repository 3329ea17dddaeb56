import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTokenIssuer, type TestTokenIssuer } from '../src/index.ts';

describe('test token issuer', () => {
  let issuer: TestTokenIssuer;
  beforeAll(async () => {
    issuer = await startTokenIssuer();
  });
  afterAll(async () => {
    await issuer.stop();
  });

  it('mints Keycloak-shaped RS256 tokens verifiable against its JWKS', async () => {
    const token = await issuer.token({ sub: 'abc', email: 'a@example.test' });
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createRemoteJWKSet(new URL(issuer.jwksUri)),
      {
        issuer: issuer.issuer,
        audience: 'happening-api',
        algorithms: ['RS256'],
      },
    );
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.sub).toBe('abc');
    expect(payload.email).toBe('a@example.test');
    expect(issuer.issuer).toMatch(/\/realms\/happening$/);
  });
});
