import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/** Claims a test may set on a minted token; everything else gets Keycloak-shaped defaults. */
export interface TokenOptions {
  sub?: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
  audience?: string | string[];
  issuer?: string;
  /** Seconds until expiry; negative mints an already expired token. */
  expiresIn?: number;
  /** Seconds from now before which the token is not valid. */
  notBefore?: number;
  /** Seconds ago the token was issued (`iat`); default now. */
  issuedAgo?: number;
  kid?: string;
  extraClaims?: JWTPayload;
}

/** An OIDC-shaped issuer for tests: serves JWKS over HTTP at Keycloak's paths and mints tokens. */
export interface TestTokenIssuer {
  /** e.g. http://127.0.0.1:PORT/realms/happening */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience: string;
  /** PEM of the current signing key's public half (for algorithm-confusion tests). */
  readonly publicKeyPem: string;
  token(options?: TokenOptions): Promise<string>;
  /** Publishes a new key (keeping the old one in the JWKS) and signs with it from now on. */
  rotateKey(): Promise<void>;
  /** Removes every key but the current one from the JWKS, as for a retired or leaked key. */
  retireOldKeys(): void;
  stop(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  publicJwk: JWK;
  publicPem: string;
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

export async function startTokenIssuer(
  options: { realm?: string; audience?: string } = {},
): Promise<TestTokenIssuer> {
  const realm = options.realm ?? 'happening';
  const audience = options.audience ?? 'happening-api';
  const keys: SigningKey[] = [await newSigningKey()];
  const current = () => keys[keys.length - 1]!;

  const server = http.createServer((req, res) => {
    const base = `/realms/${realm}`;
    if (req.url === `${base}/protocol/openid-connect/certs`) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
      return;
    }
    if (req.url === `${base}/.well-known/openid-configuration`) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer: issuerUrl, jwks_uri: jwksUri }));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuerUrl = `http://127.0.0.1:${port}/realms/${realm}`;
  const jwksUri = `${issuerUrl}/protocol/openid-connect/certs`;

  return {
    issuer: issuerUrl,
    jwksUri,
    audience,
    get publicKeyPem() {
      return current().publicPem;
    },
    async token(opts: TokenOptions = {}) {
      const key = current();
      const sub = opts.sub ?? randomUUID();
      const now = Math.floor(Date.now() / 1000);
      const name = opts.name ?? `User ${sub.slice(0, 8)}`;
      const jwt = new SignJWT({
        typ: 'Bearer',
        azp: 'happening-cli',
        email: opts.email ?? `${sub.slice(0, 8)}@example.test`,
        email_verified: opts.emailVerified ?? true,
        name,
        preferred_username: (opts.email ?? sub).split('@')[0],
        ...opts.extraClaims,
      })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: opts.kid ?? key.kid })
        .setSubject(sub)
        .setIssuer(opts.issuer ?? issuerUrl)
        .setAudience(opts.audience ?? [audience, 'account'])
        .setIssuedAt(now - (opts.issuedAgo ?? 0))
        .setJti(randomUUID())
        .setExpirationTime(now + (opts.expiresIn ?? 300));
      if (opts.notBefore !== undefined) jwt.setNotBefore(now + opts.notBefore);
      return jwt.sign(key.privateKey);
    },
    async rotateKey() {
      keys.push(await newSigningKey());
    },
    retireOldKeys() {
      keys.splice(0, keys.length - 1);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
