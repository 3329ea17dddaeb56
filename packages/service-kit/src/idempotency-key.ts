import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

/**
 * The `Idempotency-Key` header a creating route accepts: 1–255 visible ASCII characters, optional.
 * Declared as the route's `headers` schema, a malformed key is a 400 naming the header.
 */
export const idempotencyKeyHeadersSchema = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible characters')
    .optional(),
});

/** The request as `runIdempotently` (from `@happening/db`) scopes and fingerprints it. */
export function idempotentRequestOf(request: FastifyRequest, callerId: string) {
  const key = request.headers['idempotency-key'];
  return {
    key: typeof key === 'string' ? key : undefined,
    route: `${request.method} ${request.routeOptions.url}`,
    callerId,
    params: request.params,
    body: request.body,
  };
}
