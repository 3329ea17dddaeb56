import { ROLES } from '@happening/contracts';
import { decodeCursor, toPage } from '@happening/service-kit';
import type { Caller, CatalogDeps } from '../../app.deps.ts';
import { roleOf } from '../memberships/membership.repository.ts';
import { canSee, orgAccess } from './event.access.ts';
import { enforce, eventNotFound, orgNotFound } from './event.errors.ts';
import type { EventCategory, EventStatus } from './event.model.ts';
import { toRepresentation } from './event.representation.ts';
import { listCursorSchema } from './event.schemas.ts';
import {
  findListedEvent,
  type ListedEvent,
  type ListPosition,
  listOrgEvents,
  listPublicEvents,
} from './event-listing.repository.ts';

const presentAt =
  (now: Date) =>
  ({ event, figures }: ListedEvent) =>
    toRepresentation(event, figures, now);

function positionOf(cursor: string | undefined): ListPosition | undefined {
  if (cursor === undefined) return undefined;
  const { s, i } = decodeCursor(cursor, listCursorSchema);
  return { startsAt: new Date(s), id: i };
}

function page(rows: ListedEvent[], limit: number, now: Date) {
  const { items, nextCursor } = toPage(rows, limit, ({ event }) => ({
    s: event.startsAt.toISOString(),
    i: event.id,
  }));
  return { items: items.map(presentAt(now)), nextCursor };
}

/** One event, if the caller may see it (see `canSee`); otherwise 404. Shown at the clock's now. */
export async function getEvent(deps: CatalogDeps, caller: Caller, eventId: string) {
  const listed = await findListedEvent(deps.db, eventId);
  if (!listed) throw eventNotFound();
  const role = await roleOf(deps.db, listed.event.orgId, caller.userId);
  if (!canSee(listed.event, role)) throw eventNotFound();
  return presentAt(deps.clock())(listed);
}

/** Every event of an org, drafts included, for its members. */
export async function getOrgEvents(
  deps: CatalogDeps,
  caller: Caller,
  orgId: string,
  query: { status?: EventStatus | undefined; limit: number; cursor?: string | undefined },
) {
  enforce(orgAccess(await roleOf(deps.db, orgId, caller.userId), ROLES), orgNotFound);
  const now = deps.clock();
  const rows = await listOrgEvents(deps.db, {
    orgId,
    status: query.status,
    now,
    after: positionOf(query.cursor),
    take: query.limit + 1,
  });
  return page(rows, query.limit, now);
}

/** The public listing: published, not finished events the caller may see. */
export async function getPublicEvents(
  deps: CatalogDeps,
  caller: Caller,
  query: {
    q?: string | undefined;
    category?: EventCategory | undefined;
    orgId?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
) {
  const now = deps.clock();
  const rows = await listPublicEvents(deps.db, {
    viewerId: caller.userId,
    now,
    q: query.q,
    category: query.category,
    orgId: query.orgId,
    from: query.from === undefined ? undefined : new Date(query.from),
    to: query.to === undefined ? undefined : new Date(query.to),
    after: positionOf(query.cursor),
    take: query.limit + 1,
  });
  return page(rows, query.limit, now);
}
