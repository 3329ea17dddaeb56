import { DomainError } from '@happening/service-kit';
import { createRemoteJWKSet, errors, exportSPKI, type JWSHeaderParameters } from 'jose';

/** Tuning for the remote key set; the defaults are jose's (10 min cache, 30 s refetch cooldown). */
export interface JwksOptions {
  /** Minimum milliseconds between two fetches triggered by an unknown `kid`. */
  cooldownMs?: number;
  /** Milliseconds a fetched key set is trusted before it is fetched again. */
  cacheMaxAgeMs?: number;
  /** Milliseconds a key set fetch may take. */
  timeoutMs?: number;
}

/** Thrown when the token's header names no key of the issuer (unknown kid, foreign alg). */
export class UnknownSigningKeyError extends Error {
  override name = 'UnknownSigningKeyError';
}

const TOKEN_FAULTS = [
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSENotSupported,
];

/**
 * Resolves a token header to the issuer's public key as PEM, through one jose remote key set:
 * jose caches keys and refetches (after a cooldown) when a token names an unknown `kid`.
 */
export function createKeyResolver(jwksUri: string, options: JwksOptions = {}) {
  const keySet = createRemoteJWKSet(new URL(jwksUri), {
    ...(options.cooldownMs !== undefined && { cooldownDuration: options.cooldownMs }),
    ...(options.cacheMaxAgeMs !== undefined && { cacheMaxAge: options.cacheMaxAgeMs }),
    ...(options.timeoutMs !== undefined && { timeoutDuration: options.timeoutMs }),
  });
  const pems = new WeakMap<object, string>();

  return async function publicKeyPem(header: JWSHeaderParameters): Promise<string> {
    let key: Awaited<ReturnType<typeof keySet>>;
    try {
      key = await keySet(header);
    } catch (error) {
      if (TOKEN_FAULTS.some((fault) => error instanceof fault)) {
        throw new UnknownSigningKeyError('no matching signing key', { cause: error });
      }
      // The token may be fine; the issuer's key set is unreachable or broken.
      throw new DomainError(
        'AUTH_UNAVAILABLE',
        503,
        'Tokens cannot be verified right now; try again shortly.',
      );
    }
    let pem = pems.get(key);
    if (pem === undefined) {
      pem = await exportSPKI(key);
      pems.set(key, pem);
    }
    return pem;
  };
}
