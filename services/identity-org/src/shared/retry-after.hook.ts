import { isDomainError } from '@happening/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * An `onError` hook: a refusal that says when to try again (a DomainError with
 * `retryAfterSeconds`, such as 429 `INVITE_LIMIT`) says it in `Retry-After` too. service-kit's
 * `sendProblem` does so only for 503s; this hook runs before the problem is sent.
 */
export async function retryAfterFromRefusal(
  _request: FastifyRequest,
  reply: FastifyReply,
  error: Error,
): Promise<void> {
  if (!isDomainError(error) || reply.hasHeader('retry-after')) return;
  const seconds = error.extra.retryAfterSeconds;
  if (typeof seconds === 'number') reply.header('retry-after', String(seconds));
}
