import { buildEvent, type EventData, type EventType } from '@happening/contracts';
import { enqueueEvents } from '@happening/db';
import { sql } from 'kysely';
import type { Trx } from './database.ts';

/** One event of an organization aggregate, before it gets its envelope. */
export type OrgEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

/**
 * Writes the organization's events to the outbox in the caller's transaction. Every
 * organization-scoped event (membership and invite events too) belongs to the organization
 * aggregate, so the relay keeps them in order per organization; bumping `event_version` also
 * locks the organization row until commit. The events are dated on the database's clock, which
 * dates the rows they announce (an invite's `expiresAt` too), not on the replica's.
 */
export async function emitOrgEvents(
  trx: Trx,
  organizationId: string,
  correlationId: string,
  events: readonly OrgEvent[],
): Promise<void> {
  const { event_version: last, occurred_at: occurredAt } = await trx
    .updateTable('organizations')
    .set({ event_version: sql`event_version + ${events.length}` })
    .where('id', '=', organizationId)
    .returning(['event_version', sql<Date>`clock_timestamp()`.as('occurred_at')])
    .executeTakeFirstOrThrow();
  const first = last - events.length + 1;
  const envelopes = events.map((event, index) =>
    buildEvent(event.type, event.data as never, {
      source: 'identity-org',
      orgId: organizationId,
      aggregate: { type: 'organization', id: organizationId, version: first + index },
      correlationId,
      occurredAt,
    }),
  );
  await enqueueEvents(trx, envelopes);
}

/** The organization as read under its row lock. */
export type LockedOrganization = { name: string; ownerId: string };

/**
 * Takes the organization's row lock: membership changes of one organization run one at a time.
 * Returns the organization's name and owner, or undefined when there is no such organization.
 * `FOR NO KEY UPDATE`, not `FOR UPDATE`: the foreign-key checks of rows written meanwhile take a
 * key-share lock on the organization. The expiry sweep takes this lock before the invites, as
 * requests do, but until it did it wrote its audit rows after locking the invites and without
 * it; with `FOR UPDATE`, a sweep of that version (still running during a deployment) would wait
 * for the organization in the opposite order to a request's, and the two could deadlock.
 */
export async function lockOrganization(
  trx: Trx,
  organizationId: string,
): Promise<LockedOrganization | undefined> {
  const row = await trx
    .selectFrom('organizations')
    .select(['name', 'owner_id'])
    .where('id', '=', organizationId)
    .forNoKeyUpdate()
    .executeTakeFirst();
  return row && { name: row.name, ownerId: row.owner_id };
}
