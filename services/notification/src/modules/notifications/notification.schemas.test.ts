import { describe, expect, it } from 'vitest';
import { errorWithoutAddresses } from './notification.schemas.ts';

describe("a delivery error as an organization's admins read it", () => {
  it.each([
    [
      '550 5.1.1 <Ada@Example.com>: Recipient address rejected',
      'ada@example.com',
      'email',
      '550 5.1.1 <<recipient>>: Recipient address rejected',
    ],
    [
      '553 sender ops@relay.example not allowed for <bob.ada@example.com>',
      'ada@example.com',
      'email',
      '553 sender <address> not allowed for <<address>>',
    ],
    [
      'provider answered 400: {"to":"4915112345678","error":"not a mobile"}',
      '+4915112345678',
      'sms',
      'provider answered 400: {"to":"<number>","error":"not a mobile"}',
    ],
    [
      'provider answered 400: 0049 151 1234-5678 unreachable',
      '+4915112345678',
      'sms',
      'provider answered 400: <number> unreachable',
    ],
    [
      'provider answered 410: device token 1f0c6e2a unregistered',
      '1f0c6e2a',
      'push',
      'provider answered 410: device token <recipient> unregistered',
    ],
    [
      'provider answered 502: https://api.sms.example/v1/messages?to=ada@example.com&key=x',
      'ada@example.com',
      'email',
      'provider answered 502: https://api.sms.example/v1/messages?to=<recipient>&key=x',
    ],
    ['provider answered 500', 'ada@example.com', 'email', 'provider answered 500'],
  ] as const)('%s', (error, recipient, channel, shown) => {
    expect(errorWithoutAddresses(error, recipient, channel)).toBe(shown);
  });

  it('is none when the delivery has not failed', () => {
    expect(errorWithoutAddresses(null, 'ada@example.com', 'email')).toBeNull();
  });
});
