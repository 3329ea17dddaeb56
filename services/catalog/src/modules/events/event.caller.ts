import type { FastifyRequest } from 'fastify';
import type { Caller } from '../../app.deps.ts';

/** The authenticated caller of a request (`app.authenticate` ran before). */
export function callerOf(request: FastifyRequest): Caller {
  return { userId: request.principal.sub, requestId: request.id };
}
