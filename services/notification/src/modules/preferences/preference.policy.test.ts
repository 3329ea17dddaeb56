import { describe, expect, it } from 'vitest';
import type { NotificationChannel } from '../../domain.ts';
import { deliveryTargets, preferenceMatrix } from './preference.policy.ts';

const all = new Set<NotificationChannel>(['email', 'sms', 'push']);
const contact = { userId: 'u1', email: 'ada@example.com', phone: '+4915112345678' };

describe('preferences', () => {
  it('defaults to email on, sms and push off, for every switchable type', () => {
    const matrix = preferenceMatrix([]);
    expect(matrix).toHaveLength(6 * 3);
    expect(matrix.filter((p) => p.enabled).map((p) => p.channel)).toEqual(Array(6).fill('email'));
    expect(matrix.some((p) => p.type === ('org_invite' as string))).toBe(false);
  });

  it('applies stored choices over the defaults', () => {
    const stored = [
      { type: 'event_updated', channel: 'email', enabled: false },
      { type: 'event_updated', channel: 'sms', enabled: true },
    ];
    expect(deliveryTargets('event_updated', contact, stored, all)).toEqual([
      { channel: 'sms', address: '+4915112345678' },
    ]);
    expect(deliveryTargets('booking_confirmed', contact, stored, all)).toEqual([
      { channel: 'email', address: 'ada@example.com' },
    ]);
  });

  it('skips channels without a provider or an address; push goes to the user id', () => {
    const stored = [
      { type: 'booking_confirmed', channel: 'sms', enabled: true },
      { type: 'booking_confirmed', channel: 'push', enabled: true },
    ];
    expect(deliveryTargets('booking_confirmed', { ...contact, phone: null }, stored, all)).toEqual([
      { channel: 'email', address: 'ada@example.com' },
      { channel: 'push', address: 'u1' },
    ]);
    expect(deliveryTargets('booking_confirmed', contact, stored, new Set(['email']))).toEqual([
      { channel: 'email', address: 'ada@example.com' },
    ]);
  });

  it('sends invites by email whatever the preferences', () => {
    const stored = [{ type: 'org_invite', channel: 'email', enabled: false }];
    expect(deliveryTargets('org_invite', contact, stored, all)).toEqual([
      { channel: 'email', address: 'ada@example.com' },
    ]);
  });
});
