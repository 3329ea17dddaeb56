import { describe, expect, it } from 'vitest';
import { emailAddressSchema, requestIdSchema } from './http.ts';

describe('emailAddressSchema', () => {
  it.each([
    'person@example.com',
    'a#b@example.com',
    "o'reilly@example.com",
    'o!reilly@example.com',
    'user@localhost',
    'x@bücher.de',
    'ünïcode@example.com',
  ])('takes %s, as an identity provider may hold it', (address) => {
    expect(emailAddressSchema.safeParse(address).success).toBe(true);
  });

  it.each([
    ['no @', 'person.example.com'],
    ['nothing before the @', '@example.com'],
    ['nothing after the @', 'person@'],
    ['two @', 'a@b@example.com'],
    ['a space', 'per son@example.com'],
    ['a line break', 'person@example.com\nBcc: other@example.com'],
    ['a NUL', 'person\u0000@example.com'],
    ['a DEL', 'person\u007F@example.com'],
    ['a C1 control', 'person@exa\u0085mple.com'],
    ['over 320 characters', `${'a'.repeat(310)}@example.com`],
  ])('refuses an address with %s', (_what, address) => {
    expect(emailAddressSchema.safeParse(address).success).toBe(false);
  });
});

describe('requestIdSchema', () => {
  it('gives an id in lower case, however it was written', () => {
    expect(requestIdSchema.parse('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe(
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    );
  });

  it('refuses what is not a UUID', () => {
    expect(requestIdSchema.safeParse('42').success).toBe(false);
  });
});
