import fastifyJwt from '@fastify/jwt';
import { DomainError, isDomainError } from '@happening/service-kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { JWSHeaderParameters } from 'jose';
import { createKeyResolver, type JwksOptions, SIGNING_ALGORITHM } from './jwks.key-resolver.ts';
import { type Principal, principalFromClaims } from './principal.ts';

/** Hook verifying the bearer token and setting `request.principal`; 401 otherwise. */
export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller; set by `app.authenticate`, so only read it on routes that run it. */
    principal: Principal;
  }
  interface FastifyInstance {
    /** onRequest/preHandler hook: 401 problem+json unless a valid bearer token is sent. */
    authenticate: Authenticate;
  }
}

export interface AuthPluginOptions {
  /** Expected `iss`, e.g. https://sso.example/realms/happening. */
  issuer: string;
  /** Expected `aud` (Keycloak puts the API client id there). */
  audience: string;
  /** Defaults to Keycloak's `${issuer}/protocol/openid-connect/certs`. */
  jwksUri?: string | undefined;
  jwks?: JwksOptions;
  /** Leeway for `exp`/`nbf` against clock skew (default 5 s). */
  clockToleranceMs?: number;
}

/** The `OIDC_*` settings every service reads, as the plugin's options. */
export function authOptionsFromConfig(config: {
  OIDC_ISSUER: string;
  OIDC_AUDIENCE: string;
  OIDC_JWKS_URI?: string | undefined;
}): AuthPluginOptions {
  return {
    issuer: config.OIDC_ISSUER,
    audience: config.OIDC_AUDIENCE,
    jwksUri: config.OIDC_JWKS_URI,
  };
}

const REALM = 'Bearer realm="happening"';
/** Keycloak's `typ` claim of an access token (ID tokens say `ID`, refresh tokens `Refresh`). */
const ACCESS_TOKEN_TYP = 'Bearer';

function unauthenticated(reply: FastifyReply, missing: boolean): DomainError {
  // RFC 6750: a request without credentials gets no error code; a bad token gets invalid_token.
  reply.header('www-authenticate', missing ? REALM : `${REALM}, error="invalid_token"`);
  return new DomainError(
    'UNAUTHENTICATED',
    401,
    missing ? 'Missing bearer token.' : 'Invalid token.',
  );
}

async function auth(app: FastifyInstance, options: AuthPluginOptions) {
  const publicKeyPem = createKeyResolver(
    options.jwksUri ?? `${options.issuer}/protocol/openid-connect/certs`,
    options.jwks,
  );

  // fast-jwt (under @fastify/jwt) accepts any algorithm, issuer and audience unless pinned.
  await app.register(fastifyJwt, {
    secret: (_request: FastifyRequest, token: unknown) =>
      publicKeyPem((token as { header: JWSHeaderParameters }).header),
    decode: { complete: true },
    verify: {
      algorithms: [SIGNING_ALGORITHM],
      allowedIss: options.issuer,
      allowedAud: options.audience,
      requiredClaims: ['iss', 'aud', 'sub', 'exp'],
      clockTolerance: options.clockToleranceMs ?? 5000,
    },
    decoratorName: 'tokenClaims',
  });

  app.decorateRequest('principal', null as unknown as Principal);

  app.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.headers.authorization) throw unauthenticated(reply, true);
    let claims: Record<string, unknown>;
    try {
      claims = await request.jwtVerify<Record<string, unknown>>();
    } catch (error) {
      if (isDomainError(error)) throw error;
      request.log.info({ reason: (error as Error).message }, 'bearer token rejected');
      throw unauthenticated(reply, false);
    }
    // Keycloak signs ID and refresh tokens with the same key, and a realm mapper can put the API
    // audience in an ID token too: only an access token (`typ: Bearer`) may call the API.
    if (claims.typ !== undefined && claims.typ !== ACCESS_TOKEN_TYP) {
      request.log.info({ reason: 'not an access token' }, 'bearer token rejected');
      throw unauthenticated(reply, false);
    }
    const principal = principalFromClaims(claims);
    if (principal === undefined) throw unauthenticated(reply, false);
    request.principal = principal;
  });
}

/** Verifies RS256 bearer tokens against the issuer's JWKS and decorates `app.authenticate`. */
export const authPlugin = fp(auth, { name: '@happening/auth', fastify: '5.x' });
