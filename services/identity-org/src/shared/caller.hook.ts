import type { FastifyRequest } from 'fastify';
import type { User } from '../modules/users/user.repository.ts';
import { syncUser } from '../modules/users/user.sync.ts';
import type { Db } from './database.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller's user row, mirrored from the token before any handler runs. */
    caller: User;
  }
}

/** preHandler hook: mirrors the verified token into `users` and exposes it as `request.caller`. */
export function callerHook(db: Db) {
  return async (request: FastifyRequest) => {
    const { principal } = request;
    request.caller = await syncUser(db, principal, request.id);
  };
}
