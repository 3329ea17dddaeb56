import { DomainError } from '@happening/service-kit';
import type { Upstream } from './route-table.ts';

/** Seconds a client is asked to wait before retrying a request no upstream instance took. */
const UPSTREAM_RETRY_AFTER_SECONDS = 2;

// Nothing reached the upstream, so any request may be retried.
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'FST_REPLY_FROM_SERVICE_UNAVAILABLE',
]);

// No status and headers within the timeout. A body timeout (UND_ERR_BODY_TIMEOUT) never gets here:
// it comes after the upstream's status and headers, and answers `upstreamBodyFailure`.
const TIMED_OUT = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'FST_REPLY_FROM_TIMEOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'FST_REPLY_FROM_HTTP_REQUEST_TIMEOUT',
]);

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  // reply-from wraps the client's error in `cause`; undici nests the socket error once more.
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = current.cause;
  }
  return codes;
}

/** The problem a failed forward answers: 503 when unreachable, 504 when too slow, else 502. */
export function upstreamFailure(upstream: Upstream, error: unknown): DomainError {
  const codes = codesOf(error);
  if (codes.some((code) => UNAVAILABLE.has(code))) {
    return new DomainError('UPSTREAM_UNAVAILABLE', 503, 'The service is unavailable.', {
      upstream,
      retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
    });
  }
  if (codes.some((code) => TIMED_OUT.has(code))) {
    return new DomainError('UPSTREAM_TIMEOUT', 504, 'The service did not answer in time.', {
      upstream,
    });
  }
  return new DomainError('BAD_GATEWAY', 502, 'The service failed to answer.', { upstream });
}

/**
 * The problem answered when the upstream sent its status and headers, then its body failed (an
 * error, a timeout, a cut connection) before any byte of it reached the client: 502, whatever
 * the upstream's status was, since the request reached it (it may have done what was asked; no
 * `Retry-After`, unlike a request no upstream took).
 */
export function upstreamBodyFailure(upstream: Upstream): DomainError {
  return new DomainError('BAD_GATEWAY', 502, 'The service failed to answer.', { upstream });
}
