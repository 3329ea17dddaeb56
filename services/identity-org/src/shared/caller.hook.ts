import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { User } from '../modules/users/user.repository.ts';
import { syncUser } from '../modules/users/user.sync.ts';
import type { Db } from './database.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller's user row, mirrored from the token before any handler runs. */
    caller: User;
  }
}

/**
 * Adds a preHandler hook to `app` that mirrors the verified token into `users` and exposes the
 * row as `request.caller` (run after `app.authenticate`).
 */
export function installCaller(app: FastifyInstance, db: Db): void {
  app.decorateRequest('caller', null as unknown as User);
  app.addHook('preHandler', async (request: FastifyRequest) => {
    request.caller = await syncUser(db, request.principal, request.id);
  });
}
