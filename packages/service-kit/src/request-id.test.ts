import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { requestIdOf } from './request-id.ts';

const withHeader = (value?: string | string[]) =>
  ({ headers: value === undefined ? {} : { 'x-request-id': value } }) as IncomingMessage;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdOf', () => {
  it('keeps a well-formed incoming id', () => {
    expect(requestIdOf(withHeader('gw-1a2b.3c:4_d'))).toBe('gw-1a2b.3c:4_d');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['too long', 'a'.repeat(129)],
    ['with spaces', 'a b'],
    ['with a newline', 'abc\ninjected'],
    ['repeated', ['a', 'b']],
  ])('generates a UUID when the header is %s', (_label, value) => {
    expect(requestIdOf(withHeader(value))).toMatch(UUID);
  });
});
