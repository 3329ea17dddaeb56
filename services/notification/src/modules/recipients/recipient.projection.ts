import type { DomainEvent } from '@happening/contracts';
import type { Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import { upsertRecipient } from './recipient.repository.ts';

/**
 * Keeps the recipients' contact details from identity's user events; returns the user whose
 * details the event carries, so the notices waiting for them can be written.
 */
export async function projectRecipients(
  trx: Transaction<NotificationDb>,
  event: DomainEvent,
): Promise<string | undefined> {
  if (event.type !== 'identity.user_registered') return undefined;
  const { userId, email, name, phone, emailVerified } = event.data;
  await upsertRecipient(
    trx,
    { userId, email, name, phone: phone ?? null, emailVerified: emailVerified ?? null },
    event.aggregate.version,
  );
  return userId;
}
