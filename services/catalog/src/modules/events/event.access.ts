import type { Role } from '@happening/contracts';
import type { CatalogEvent } from './event.model.ts';

/** Roles that run an organization's events. */
export const EVENT_MANAGERS: readonly Role[] = ['organizer', 'orgAdmin'];

/** `not_found` for whatever the caller may not know exists, `forbidden` for a known caller. */
export type AccessVerdict = 'allowed' | 'not_found' | 'forbidden';

type Audience = Pick<CatalogEvent, 'publishedAt' | 'visibility'>;

/**
 * Who may see an event: its org's members always (drafts included); anyone else only once it was
 * published (a draft cancelled unpublished stays theirs), and only when it is public.
 */
export function canSee(event: Audience, role: Role | undefined): boolean {
  if (role !== undefined) return true;
  return event.publishedAt !== null && event.visibility === 'public';
}

/** Changing an event needs a managing role in its org; an invisible event is simply not there. */
export function changeAccess(event: Audience, role: Role | undefined): AccessVerdict {
  if (!canSee(event, role)) return 'not_found';
  return role !== undefined && EVENT_MANAGERS.includes(role) ? 'allowed' : 'forbidden';
}

/** Org-scoped routes: non-members get 404, members without one of `roles` get 403. */
export function orgAccess(role: Role | undefined, roles: readonly Role[]): AccessVerdict {
  if (role === undefined) return 'not_found';
  return roles.includes(role) ? 'allowed' : 'forbidden';
}
