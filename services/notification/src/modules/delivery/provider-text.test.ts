import { describe, expect, it } from 'vitest';
import { errorWithoutAddresses, excerpt, storableText } from './provider-text.ts';

describe('storableText', () => {
  it('drops NUL characters', () => {
    expect(storableText('provider answered 500: bad\0', 100)).toBe('provider answered 500: bad');
    expect(storableText('\0a\0b\0', 100)).toBe('ab');
  });

  it('replaces unpaired surrogates and keeps pairs', () => {
    expect(storableText('x\uD800y', 100)).toBe('x\uFFFDy');
    expect(storableText('x\uDC00', 100)).toBe('x\uFFFD');
    expect(storableText('\uDC00\uD800', 100)).toBe('\uFFFD\uFFFD');
    expect(storableText('rocket 🚀', 100)).toBe('rocket 🚀');
  });

  it('cuts long texts to the bound, with an ellipsis, never half a pair', () => {
    expect(storableText('a'.repeat(20), 10)).toBe(`${'a'.repeat(9)}…`);
    expect(storableText('a'.repeat(10), 10)).toBe('a'.repeat(10));
    // The ninth character is the first half of 🚀: it goes rather than standing alone.
    const cut = storableText(`${'a'.repeat(8)}🚀🚀`, 10);
    expect(cut).toBe(`${'a'.repeat(8)}…`);
    expect(storableText(`${'\0'.repeat(5)}abc`, 3)).toBe('abc');
  });

  it('yields text Postgres jsonb accepts', () => {
    const stored = storableText(`bad\0\uD83D${'x'.repeat(2_000)}`, 1_000);
    expect(stored).toHaveLength(1_000);
    expect(JSON.stringify(stored)).not.toMatch(/\\u0000|\\ud[89ab]/i);
  });
});

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
    // Addresses people may log in with that an ASCII, dotted domain pattern does not see.
    [
      '550 5.1.1 <ops@localhost>: unknown user',
      'ops@localhost',
      'email',
      '550 5.1.1 <<recipient>>: unknown user',
    ],
    [
      '550 5.1.1 <Ada@Bücher.de>: unknown user; cc boss@intranet refused',
      'ada@bücher.de',
      'email',
      '550 5.1.1 <<recipient>>: unknown user; cc <address> refused',
    ],
    [
      '550 mailbox "ada.lovelace"@example.com unavailable, root@[192.0.2.1] too',
      '"ada.lovelace"@example.com',
      'email',
      '550 mailbox <recipient> unavailable, <address> too',
    ],
    // The recipient whole, whatever its local part holds, never only its end.
    [
      "550 5.1.1 <O'Brien@example.com>: unknown user",
      "o'brien@example.com",
      'email',
      '550 5.1.1 <<recipient>>: unknown user',
    ],
    [
      '550 <ada/lovelace@example.com> unknown',
      'ada/lovelace@example.com',
      'email',
      '550 <<recipient>> unknown',
    ],
    [
      '550 <ada=lovelace@example.com> unknown',
      'ada=lovelace@example.com',
      'email',
      '550 <<recipient>> unknown',
    ],
    [
      `550 <${'ada.lovelace.'.repeat(6)}x@example.com> unknown`,
      `${'ada.lovelace.'.repeat(6)}x@example.com`,
      'email',
      '550 <<recipient>> unknown',
    ],
    // Another address that ends like the recipient's, or continues it, is another address.
    [
      '550 <ada@example.com.au> and <bob.ada@example.com> unknown',
      'ada@example.com',
      'email',
      '550 <<address>> and <<address>> unknown',
    ],
    // A device token or number, wherever it stands: nothing longer containing it is someone else's.
    [
      '410 token %22AbC123%22 unregistered, token=AbC123-old, sent to 1abc123',
      'abc123',
      'push',
      '410 token %22<recipient>%22 unregistered, token=<recipient>-old, sent to 1<recipient>',
    ],
    // A recipient in a form no pattern knows is still left out wherever it is quoted, in any case.
    ['550 no such user A+B(C)@EXAMPLE', 'a+b(c)@example', 'email', '550 no such user <recipient>'],
    [
      'provider answered 410: device token AbC.1+2 unregistered (abc.1+2)',
      'abc.1+2',
      'push',
      'provider answered 410: device token <recipient> unregistered (<recipient>)',
    ],
  ] as const)('%s', (error, recipient, channel, shown) => {
    expect(errorWithoutAddresses(error, recipient, channel)).toBe(shown);
  });

  it('is none when the delivery has not failed', () => {
    expect(errorWithoutAddresses(null, 'ada@example.com', 'email')).toBeNull();
  });
});

describe('excerpt', () => {
  it('keeps a text within the bound as it is', () => {
    expect(excerpt('provider down', 200)).toBe('provider down');
  });

  it('cuts before the word the bound would split, so no half number is left', () => {
    const text = `${'x'.repeat(190)} to "+4915112345678" refused`;
    const cut = excerpt(text, 200);
    expect(cut).toBe(`${'x'.repeat(190)} to "…`);
    expect(cut).not.toMatch(/\d/);
  });
});
