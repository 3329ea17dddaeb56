import type { NotificationChannel, NotificationType } from '../../domain.ts';
import { channelAddress } from '../preferences/preference.policy.ts';

/** What of a stored notification decides where it goes. */
export interface AddressedNotice {
  type: NotificationType;
  channel: NotificationChannel;
  userId: string | null;
  /** The address stored: the one it was written for, or the one its last send used. */
  recipient: string;
}

/**
 * Where a notice goes when it is sent: to its person's address on its channel as the
 * `recipients` projection has it now (`current`, their newest `user_registered`), so a retry, a
 * sweep or an orgAdmin's retry after a change of email or phone reaches the new address. An
 * invite goes to the address it was sent to (whoever holds it), and a notice whose person or
 * address on that channel is unknown now keeps the stored address.
 */
export function sendAddress(
  notice: AddressedNotice,
  current: { email: string; phone: string | null } | undefined,
): string {
  if (notice.type === 'org_invite' || notice.userId === null || !current) return notice.recipient;
  return channelAddress(notice.channel, { ...current, userId: notice.userId }) ?? notice.recipient;
}
