import type { DomainEvent } from '@happening/contracts';
import type { Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import { lockEventHolders } from '../cancelled-events/cancelled-event.repository.ts';
import { versionsToldBy } from './event-version.policy.ts';
import { recordEventVersions } from './event-version.repository.ts';

/**
 * Records the event versions a `catalog.event_updated` tells of, under the event's holders lock,
 * which an update's fan-out holds while it compares itself with the newest version known.
 */
export async function projectEventVersions(
  trx: Transaction<NotificationDb>,
  event: DomainEvent,
): Promise<void> {
  if (event.type !== 'catalog.event_updated') return;
  await lockEventHolders(trx, event.data.eventId);
  await recordEventVersions(trx, event.data.eventId, versionsToldBy(event));
}
