import { describe, expect, it } from 'vitest';
import { type AddressedNotice, sendAddress } from './send-address.policy.ts';

const notice = (overrides: Partial<AddressedNotice> = {}): AddressedNotice => ({
  type: 'booking_confirmed',
  channel: 'email',
  userId: 'u1',
  recipient: 'old@example.test',
  ...overrides,
});
const now = { email: 'new@example.test', phone: '+4915100000009' };

describe('sendAddress', () => {
  it('takes the person’s address on the channel as known now', () => {
    expect(sendAddress(notice(), now)).toBe('new@example.test');
    expect(sendAddress(notice({ channel: 'sms', recipient: '+4915100000001' }), now)).toBe(
      '+4915100000009',
    );
    expect(sendAddress(notice({ channel: 'push', recipient: 'u1' }), now)).toBe('u1');
  });

  it('keeps the stored address for an invite, an unknown person or a channel without an address', () => {
    expect(
      sendAddress(notice({ type: 'org_invite', recipient: 'invited@example.test' }), now),
    ).toBe('invited@example.test');
    expect(sendAddress(notice({ userId: null }), now)).toBe('old@example.test');
    expect(sendAddress(notice(), undefined)).toBe('old@example.test');
    expect(
      sendAddress(notice({ channel: 'sms', recipient: '+4915100000001' }), { ...now, phone: null }),
    ).toBe('+4915100000001');
  });
});
