import { type KeepResponse, runIdempotently, type StoredResponse } from '@happening/db';
import { idempotentRequestOf, sendIdempotent } from '@happening/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from './database.ts';

/**
 * Runs a creating request once per `Idempotency-Key` (scoped to route and caller) and replays the
 * stored answer on retries; without the header it simply runs.
 */
export async function replyIdempotently(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  fn: (keep: KeepResponse) => Promise<StoredResponse>,
): Promise<FastifyReply> {
  const response = await runIdempotently(db, idempotentRequestOf(request, request.caller.id), fn);
  return sendIdempotent(reply, response);
}
