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
    starts_at: new Date(v.details.startsAt),
  });
  await trx
    .insertInto('event_versions')
    .values(row(own))
    .onConflict((oc) =>
      oc.columns(['event_id', 'catalog_version']).doUpdateSet((eb) => ({
        details: eb.ref('excluded.details'),
        starts_at: eb.ref('excluded.starts_at'),
      })),
    )
    .execute();
  // The event's holders are kept until long after its latest start known (see the retention).
  await trx
    .updateTable('event_holders')
    .set({
      event_starts_at: sql<Date>`GREATEST(event_starts_at, ${new Date(own.details.startsAt)})`,
    })
    .where('event_id', '=', eventId)
    .execute();
  if (!before) return;
  await trx
    .insertInto('event_versions')
    .values(row(before))
    .onConflict((oc) => oc.columns(['event_id', 'catalog_version']).doNothing())
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
