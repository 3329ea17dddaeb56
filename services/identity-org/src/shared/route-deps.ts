import type { InviteSettings } from '../modules/invites/invite.commands.ts';
import type { Actor } from './actor.ts';
import type { Db } from './database.ts';
import type { OrgGuards } from './org-access.ts';

/** What every route module is given. */
export interface RouteDeps {
  db: Db;
  guards: OrgGuards;
  invites: InviteSettings;
  /** Most organizations one person may own. */
  organizationsPerOwner: number;
}

/** The acting user of an authenticated request (mirrored into `users` by the preHandler). */
export function actorOf(request: { caller: { id: string }; id: string }): Actor {
  return { userId: request.caller.id, requestId: request.id };
}
