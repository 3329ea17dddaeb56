import { DomainError } from '@happening/service-kit';
import {
  createRemoteJWKSet,
  customFetch,
  type ExportedJWKSCache,
  errors,
  exportSPKI,
  type JWKSCacheInput,
  type JWSHeaderParameters,
  jwksCache,
} from 'jose';

/** Tuning for the remote key set; the defaults are a 10 min cache (jose's), a 5 s refetch cooldown. */
export interface JwksOptions {
  /**
   * Minimum milliseconds between two fetches triggered by an unknown `kid` (default
   * `DEFAULT_JWKS_COOLDOWN_MS`). A token naming a `kid` the key set did not hold when last fetched
   * answers 503 with `Retry-After` until the cooldown lets it be fetched again.
   */
  cooldownMs?: number;
  /** Milliseconds a fetched key set is trusted before it is fetched again. */
  cacheMaxAgeMs?: number;
  /** Milliseconds a key set fetch may take. */
  timeoutMs?: number;
  /**
   * Milliseconds a key keeps verifying tokens while the key set cannot be fetched, counted from
   * the last time the key set held it (default 24 h).
   */
  maxStaleMs?: number;
}

/** The one algorithm the platform's tokens are signed with (Keycloak's default). */
export const SIGNING_ALGORITHM = 'RS256';

/**
 * Default `cooldownMs`: how soon after a fetch a token with a new `kid` (a key rotated in since)
 * can have the key set fetched again, so how long such tokens answer 503 at most. Short, as a
 * fetch is cheap; not none, so tokens naming made-up kids cannot have the issuer asked at will.
 */
export const DEFAULT_JWKS_COOLDOWN_MS = 5_000;

/** Most `kid`s remembered as named by a token while the key set did not hold them. */
const MAX_UNKNOWN_KIDS = 1_000;

/**
 * Longest `kid` looked up (Keycloak's are 43 characters): a longer one is refused (401) at once,
 * neither fetched for nor remembered, so made-up kids cannot fill memory with header-sized strings.
 */
export const MAX_KID_LENGTH = 256;

/** While the key set cannot be fetched, how long known keys are used without asking again. */
const RETRY_FETCH_AFTER_MS = 30_000;

// A failed fetch starts no cooldown: the next token with a new kid asks again, so a client may retry soon.
const AUTH_RETRY_AFTER_SECONDS = 2;

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
 * jose caches keys and refetches (after a cooldown) when a token names an unknown `kid`, and
 * every `cacheMaxAgeMs`. When a fetch fails, a `kid` the last key set fetched still held keeps its
 * key (up to `maxStaleMs`), so an issuer that is down does not stop the platform: its tokens stay
 * verifiable; an unknown `kid` answers 503 then, one the issuer has since removed 401. For RETRY_FETCH_AFTER_MS after a failure,
 * known keys are used without waiting on another fetch.
 *
 * A `kid` the key set does not hold while it cannot be fetched again yet (the cooldown after the
 * last fetch) may be a key the issuer rotated in since: 503 AUTH_UNAVAILABLE, `Retry-After` the
 * rest of the cooldown, not 401 (on which clients log their users out). It answers 401 once a
 * fetch started after a token first named it (or after the one whose key set last held it) did
 * not hold it: a fetch already under way when the token came (jose joins it) may have been
 * answered before the key was published.
 */
export function createKeyResolver(jwksUri: string, options: JwksOptions = {}) {
  const cooldownMs = options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
  /** jose writes each fetched key set here, with when it was fetched (`uat`). */
  const fetched: Partial<ExportedJWKSCache> = {};
  /** Fetches of the key set started so far (failed ones too). */
  let fetchesStarted = 0;
  /** Each key set fetched (the JSON jose keeps in `fetched.jwks`), by its fetch's number. */
  const fetchNumbers = new WeakMap<object, number>();
  /** The number of the fetch the key set jose holds now came from. */
  const heldSetFetch = () => (fetched.jwks ? fetchNumbers.get(fetched.jwks) : undefined);
  const keySet = createRemoteJWKSet(new URL(jwksUri), {
    cooldownDuration: cooldownMs,
    [jwksCache]: fetched as JWKSCacheInput,
    [customFetch]: async (url, init) => {
      const number = ++fetchesStarted;
      const response = await fetch(url, init);
      const json = response.json.bind(response);
      // jose keeps the parsed JSON as `fetched.jwks`: this tags it with the fetch's number.
      return Object.defineProperty(response, 'json', {
        value: async () => {
          const body: unknown = await json();
          if (typeof body === 'object' && body !== null) fetchNumbers.set(body, number);
          return body;
        },
      });
    },
    ...(options.cacheMaxAgeMs !== undefined && { cacheMaxAge: options.cacheMaxAgeMs }),
    ...(options.timeoutMs !== undefined && { timeoutDuration: options.timeoutMs }),
  });
  const pems = new WeakMap<object, string>();
  const maxStaleMs = options.maxStaleMs ?? 24 * 60 * 60 * 1000;
  /**
   * Keys by kid, with when the key set last held them and the number of the fetch that key set
   * came from.
   */
  const known = new Map<string, { pem: string; heldAt: number; heldBy: number }>();
  let failedAt = Number.NEGATIVE_INFINITY;
  /**
   * Kids tokens named that the key set did not hold, with the count of fetches started before
   * one was first named (or the number of the fetch whose key set last held it).
   */
  const unknownSince = new Map<string, number>();
  /**
   * For a `kid` the key set does not hold: 401 when the key set that lacked it came from a fetch
   * started after the `kid` was first named (`startedBefore`: the fetches started when this
   * request came) or after the one whose key set last held it; 503 while none did yet.
   */
  const unavailableWhileTooNew = (kid: string, startedBefore: number) => {
    const firstNamed = known.get(kid)?.heldBy ?? unknownSince.get(kid) ?? startedBefore;
    if (!unknownSince.has(kid)) {
      if (unknownSince.size >= MAX_UNKNOWN_KIDS) {
        unknownSince.delete(unknownSince.keys().next().value as string);
      }
      unknownSince.set(kid, firstNamed);
    }
    const lackedBy = heldSetFetch();
    const fetchedAt = fetched.uat;
    if (lackedBy === undefined || fetchedAt === undefined || lackedBy > firstNamed) return;
    const retryAfterSeconds = Math.max(1, Math.ceil((fetchedAt + cooldownMs - Date.now()) / 1000));
    throw new DomainError(
      'AUTH_UNAVAILABLE',
      503,
      "The token's signing key cannot be checked yet; try again shortly.",
      { retryAfterSeconds },
    );
  };
  /**
   * Whether the last key set fetched still publishes `kid`: a key the issuer removed (retired,
   * or leaked) must not come back while its key set cannot be fetched.
   */
  const stillPublished = (kid: string) => keySet.jwks()?.keys.some((jwk) => jwk.kid === kid);
  /** A kept key, while the last key set fetched still holds it; otherwise the token is refused. */
  const keptIfPublished = (kid: string, pem: string, cause?: unknown) => {
    if (stillPublished(kid)) return pem;
    throw new UnknownSigningKeyError('signing key no longer published', { cause });
  };

  return async function publicKeyPem(header: JWSHeaderParameters): Promise<string> {
    // Before any look-up: a header naming a real kid with another algorithm matches no key, and
    // must not pass for the issuer having removed that kid (which drops it from `known`).
    if (header.alg !== SIGNING_ALGORITHM) {
      throw new UnknownSigningKeyError(`algorithm ${String(header.alg)} not accepted`);
    }
    // A header may carry any JSON: a kid that is no string, or too long, names no key of ours.
    if (
      header.kid !== undefined &&
      (typeof header.kid !== 'string' || header.kid.length > MAX_KID_LENGTH)
    ) {
      throw new UnknownSigningKeyError(`kid not a string of at most ${MAX_KID_LENGTH} characters`);
    }
    const kept = header.kid === undefined ? undefined : known.get(header.kid);
    const usable = kept !== undefined && Date.now() - kept.heldAt <= maxStaleMs;
    if (usable && Date.now() - failedAt < RETRY_FETCH_AFTER_MS) {
      return keptIfPublished(header.kid!, kept.pem);
    }
    let key: Awaited<ReturnType<typeof keySet>>;
    // Counted before the look-up, which may start a fetch (or join one under way).
    const startedBefore = fetchesStarted;
    let heldBy: number | undefined;
    try {
      key = await keySet(header);
      heldBy = heldSetFetch();
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey && header.kid !== undefined) {
        unavailableWhileTooNew(header.kid, startedBefore);
      }
      if (TOKEN_FAULTS.some((fault) => error instanceof fault)) {
        // Forgotten only when the key set last fetched no longer holds it.
        if (header.kid !== undefined && !stillPublished(header.kid)) known.delete(header.kid);
        throw new UnknownSigningKeyError('no matching signing key', { cause: error });
      }
      // The token may be fine; the issuer's key set is unreachable or broken.
      failedAt = Date.now();
      if (usable) return keptIfPublished(header.kid!, kept.pem, error);
      throw new DomainError(
        'AUTH_UNAVAILABLE',
        503,
        'Tokens cannot be verified right now; try again shortly.',
        { retryAfterSeconds: AUTH_RETRY_AFTER_SECONDS },
      );
    }
    let pem = pems.get(key);
    if (pem === undefined) {
      pem = await exportSPKI(key);
      pems.set(key, pem);
    }
    if (header.kid !== undefined) {
      known.set(header.kid, { pem, heldAt: Date.now(), heldBy: heldBy ?? fetchesStarted });
      unknownSince.delete(header.kid);
    }
    return pem;
  };
}
