import { describe, expect, it } from 'vitest';
import { assertKeepsAnAdmin, mayRemoveMember } from './membership.policy.ts';

describe('assertKeepsAnAdmin', () => {
  it('refuses to demote the last orgAdmin', () => {
    expect(() => assertKeepsAnAdmin('orgAdmin', 'organizer', 1)).toThrow(
      expect.objectContaining({ code: 'LAST_ORG_ADMIN', status: 409 }),
    );
  });
  it('refuses to remove the last orgAdmin', () => {
    expect(() => assertKeepsAnAdmin('orgAdmin', 'removed', 1)).toThrow(
      expect.objectContaining({ code: 'LAST_ORG_ADMIN' }),
    );
  });
  it('lets an orgAdmin go when another remains', () => {
    expect(() => assertKeepsAnAdmin('orgAdmin', 'user', 2)).not.toThrow();
    expect(() => assertKeepsAnAdmin('orgAdmin', 'removed', 2)).not.toThrow();
  });
  it('ignores changes that do not touch an orgAdmin', () => {
    expect(() => assertKeepsAnAdmin('user', 'removed', 1)).not.toThrow();
    expect(() => assertKeepsAnAdmin('organizer', 'orgAdmin', 1)).not.toThrow();
    expect(() => assertKeepsAnAdmin('orgAdmin', 'orgAdmin', 1)).not.toThrow();
  });
});

describe('mayRemoveMember', () => {
  it('lets orgAdmins remove anyone and members only themselves', () => {
    expect(mayRemoveMember('a', 'orgAdmin', 'b')).toBe(true);
    expect(mayRemoveMember('a', 'user', 'a')).toBe(true);
    expect(mayRemoveMember('a', 'organizer', 'b')).toBe(false);
  });
});
