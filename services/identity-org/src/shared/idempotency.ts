import { createHash } from 'node:crypto';
import { type StoredResponse, withIdempotencyKey } from '@happening/db';
import { DomainError } from '@happening/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from './database.ts';

const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Runs a creating request once per `Idempotency-Key` (scoped to route and caller) and replays the
 * stored answer on retries; without the header it simply runs.
 */
export async function replyIdempotently(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  fn: () => Promise<StoredResponse>,
): Promise<FastifyReply> {
  const key = request.headers['idempotency-key'];
  if (key === undefined) {
    const response = await fn();
    return reply.status(response.statusCode).send(response.body);
  }
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new DomainError(
      'INVALID_IDEMPOTENCY_KEY',
      400,
      'Idempotency-Key must be 1-255 visible characters.',
    );
  }
  const route = `${request.method} ${request.routeOptions.url}`;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ route, params: request.params, body: request.body }))
    .digest('hex');
  const response = await withIdempotencyKey(
    db,
    { scope: `${route} ${request.caller.id}`, key, fingerprint },
    fn,
  );
  return reply.status(response.statusCode).send(response.body);
}
