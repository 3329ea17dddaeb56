import { sql, type Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import type { EventSnapshot, EventVersion, VersionsTold } from './event-version.policy.ts';

/**
 * Records an update's version and the one before it. The update's own snapshot is catalog's word
 * on its version and replaces a copy derived from the next update; a derived one never replaces
 * a stored version.
 */
export async function recordEventVersions(
  trx: Transaction<NotificationDb>,
  eventId: string,
  { own, before }: VersionsTold,
): Promise<void> {
  const row = (v: EventVersion) => ({
    event_id: eventId,
    catalog_version: v.version,
    details: JSON.stringify(v.details),
    event_ends_at: new Date(v.details.endsAt),
  });
  await trx
    .insertInto('event_versions')
    .values(row(own))
    .onConflict((oc) =>
      oc
        .columns(['event_id', 'catalog_version'])
        .doUpdateSet((eb) => ({ details: eb.ref('excluded.details') })),
    )
    .execute();
  if (before) {
    await trx
      .insertInto('event_versions')
      .values(row(before))
      .onConflict((oc) => oc.columns(['event_id', 'catalog_version']).doNothing())
      .execute();
  }
  // Every row of the event, and its holders, carry its latest end known: the retention deletes
  // them together, long after it (an event moved to an earlier end is kept to the later one).
  const latestEnd = sql<Date>`GREATEST(event_ends_at, (
    SELECT max(v.event_ends_at) FROM event_versions v WHERE v.event_id = ${eventId}))`;
  await trx
    .updateTable('event_versions')
    .set({ event_ends_at: latestEnd })
    .where('event_id', '=', eventId)
    .execute();
  await trx
    .updateTable('event_holders')
    .set({ event_ends_at: latestEnd })
    .where('event_id', '=', eventId)
    .execute();
}

/** Every version of an event known here, newest first. */
export async function knownVersionsOf(
  trx: Transaction<NotificationDb>,
  eventId: string,
): Promise<EventVersion[]> {
  const rows = await trx
    .selectFrom('event_versions')
    .select(['catalog_version', 'details'])
    .where('event_id', '=', eventId)
    .orderBy('catalog_version', 'desc')
    .execute();
  return rows.map((r) => ({ version: r.catalog_version, details: r.details as EventSnapshot }));
}
