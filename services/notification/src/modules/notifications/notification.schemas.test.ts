import { describe, expect, it } from 'vitest';
import { errorWithoutAddresses } from './notification.schemas.ts';

describe("a delivery error as an organization's admins read it", () => {
  it.each([
    [
      '550 5.1.1 <ada@example.com>: Recipient address rejected',
      'ada@example.com',
      '550 5.1.1 <<recipient>>: Recipient address rejected',
    ],
    [
      'provider answered 400: +4915112345678 is not a mobile number',
      '+4915112345678',
      'provider answered 400: <recipient> is not a mobile number',
    ],
    [
      '553 sender ops@relay.example not allowed',
      'ada@example.com',
      '553 sender <address> not allowed',
    ],
    ['provider answered 500', 'ada@example.com', 'provider answered 500'],
  ])('%s', (error, recipient, shown) => {
    expect(errorWithoutAddresses(error, recipient)).toBe(shown);
  });

  it('is none when the delivery has not failed', () => {
    expect(errorWithoutAddresses(null, 'ada@example.com')).toBeNull();
  });
});
