import {
  NOTIFICATION_CHANNELS,
  NOTIFICATION_TYPES,
  type NotificationChannel,
  type NotificationType,
} from '../../domain.ts';

/** Types a person can switch: invites go to an address, not to a user with settings. */
export const PREFERENCE_TYPES = NOTIFICATION_TYPES.filter(
  (type): type is Exclude<NotificationType, 'org_invite'> => type !== 'org_invite',
);
export type PreferenceType = (typeof PREFERENCE_TYPES)[number];

export interface Preference {
  type: PreferenceType;
  channel: NotificationChannel;
  enabled: boolean;
}

/** Email is on unless switched off; SMS and push only when asked for. */
export function defaultEnabled(channel: NotificationChannel): boolean {
  return channel === 'email';
}

/** The full type × channel matrix: stored choices over the defaults. */
export function preferenceMatrix(
  stored: ReadonlyArray<{ type: string; channel: string; enabled: boolean }>,
): Preference[] {
  const chosen = new Map(stored.map((p) => [`${p.type}|${p.channel}`, p.enabled]));
  return PREFERENCE_TYPES.flatMap((type) =>
    NOTIFICATION_CHANNELS.map((channel) => ({
      type,
      channel,
      enabled: chosen.get(`${type}|${channel}`) ?? defaultEnabled(channel),
    })),
  );
}

/** Whether a person's choices (or the defaults) still let a notice of `type` go on `channel`. */
export function channelEnabled(
  type: NotificationType,
  channel: NotificationChannel,
  stored: ReadonlyArray<{ type: string; channel: string; enabled: boolean }>,
): boolean {
  if (type === 'org_invite') return true;
  return preferenceMatrix(stored).some(
    (p) => p.type === type && p.channel === channel && p.enabled,
  );
}

/** Contact details a channel needs; a channel without an address is skipped. */
export interface Contact {
  userId: string | null;
  email: string;
  phone: string | null;
}

/**
 * The channels and addresses one notice goes out on: the recipient's choices (or the defaults),
 * restricted to channels the service has a provider for and the recipient has an address on.
 * A notice to a bare address (an invite) goes by email only.
 */
export function deliveryTargets(
  type: NotificationType,
  contact: Contact,
  stored: ReadonlyArray<{ type: string; channel: string; enabled: boolean }>,
  available: ReadonlySet<NotificationChannel>,
): Array<{ channel: NotificationChannel; address: string }> {
  if (type === 'org_invite' || contact.userId === null) {
    return available.has('email') ? [{ channel: 'email', address: contact.email }] : [];
  }
  const userId = contact.userId;
  const enabled = preferenceMatrix(stored).filter((p) => p.type === type && p.enabled);
  return enabled.flatMap(({ channel }) => {
    if (!available.has(channel)) return [];
    const address = channelAddress(channel, { ...contact, userId });
    return address ? [{ channel, address }] : [];
  });
}

/**
 * A person's address on a channel: their email, their phone (null when they gave none), or for
 * push their user id (the provider maps it to their devices).
 */
export function channelAddress(
  channel: NotificationChannel,
  contact: Contact & { userId: string },
): string | null {
  switch (channel) {
    case 'email':
      return contact.email;
    case 'sms':
      return contact.phone;
    case 'push':
      return contact.userId;
  }
}
