import type { Transaction } from 'kysely';
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
