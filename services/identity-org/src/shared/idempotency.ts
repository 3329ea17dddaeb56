import { type KeepResponse, runIdempotently, type StoredResponse } from '@happening/db';
import { idempotentRequestOf, sendIdempotent } from '@happening/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from './database.ts';

/**
 * Runs a creating request once per `Idempotency-Key` (scoped to route and caller) and replays the
 * stored answer on retries; without the header it simply runs. `location` builds a 201's
 * `Location` from its body, on the first answer and its replays alike.
 */
export async function replyIdempotently<B>(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  fn: (keep: KeepResponse) => Promise<StoredResponse>,
  location?: (body: B) => string,
): Promise<FastifyReply> {
  const response = await runIdempotently(db, idempotentRequestOf(request, request.caller.id), fn);
  return sendIdempotent(reply, response, location);
}
