import { describe, expect, it } from 'vitest';
import { tokenEmail } from './token-email.policy.ts';

describe('tokenEmail', () => {
  it.each([
    ['ada@example.com', 'ada@example.com'],
    ['  Ada@Example.com ', 'Ada@Example.com'],
    ['a#b@example.com', 'a#b@example.com'],
    ['ops@localhost', 'ops@localhost'],
    [`${'a'.repeat(308)}@example.com`, `${'a'.repeat(308)}@example.com`],
  ])('takes %j as %j', (claim, email) => {
    expect(tokenEmail(claim)).toBe(email);
  });

  it.each([undefined, null, '', '   '])('refuses %j with 403 EMAIL_REQUIRED', (claim) => {
    expect(() => tokenEmail(claim)).toThrow(
      expect.objectContaining({ code: 'EMAIL_REQUIRED', status: 403 }),
    );
  });

  it.each([
    'john doe@example.com',
    'no-at-sign.example.com',
    'two@at@example.com',
    '@example.com',
    'ada@',
    'tab\t@example.com',
    'bell\u0007@example.com',
    `${'a'.repeat(309)}@example.com`,
  ])('refuses %j with 403 EMAIL_INVALID', (claim) => {
    expect(() => tokenEmail(claim)).toThrow(
      expect.objectContaining({
        code: 'EMAIL_INVALID',
        status: 403,
        detail:
          "Your account's email address cannot be used here; ask your administrator to correct it.",
      }),
    );
  });
});
