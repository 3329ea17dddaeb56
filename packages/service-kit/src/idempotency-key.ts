import type { FastifyReply, FastifyRequest } from 'fastify';
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

/**
 * Sends what `runIdempotently` answered. A replay goes out as it was stored: the route's response
 * schema may have grown since (a key lives 24 h, across a deploy), and the client must get the
 * answer it would have got, not a 500 for a field the stored body predates. A 201's `Location` is
 * built from the body by `location`: only status and body are stored, so a replay gets the same.
 */
export function sendIdempotent<B>(
  reply: FastifyReply,
  response: { statusCode: number; body: unknown; replayed?: boolean },
  location?: (body: B) => string,
): FastifyReply {
  if (response.replayed) reply.serializer(JSON.stringify).type('application/json; charset=utf-8');
  if (location && response.statusCode === 201) {
    reply.header('location', location(response.body as B));
  }
  return reply.status(response.statusCode).send(response.body);
}
