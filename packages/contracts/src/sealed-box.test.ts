import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealedBox, createSealedBoxRing } from './sealed-box.ts';

describe('sealed box', () => {
  const box = createSealedBox(randomBytes(32));

  it('opens what it sealed and never shows the plaintext', () => {
    const sealed = box.seal('accept: https://x/?token=secret');
    expect(sealed).not.toContain('secret');
    expect(Buffer.from(sealed, 'base64').toString('utf8')).not.toContain('secret');
    expect(box.open(sealed)).toBe('accept: https://x/?token=secret');
  });

  it('refuses a tampered text or another key', () => {
    const sealed = Buffer.from(box.seal('hello'), 'base64');
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    expect(() => box.open(sealed.toString('base64'))).toThrow();
    expect(() => createSealedBox(randomBytes(32)).open(box.seal('hello'))).toThrow();
    expect(() => box.open('c2hvcnQ=')).toThrow();
  });

  it('opens a text sealed for a context only for that context', () => {
    const sealed = box.seal('hello', 'invite-1');
    expect(box.open(sealed, 'invite-1')).toBe('hello');
    expect(() => box.open(sealed, 'invite-2')).toThrow();
    expect(() => box.open(sealed)).toThrow();
  });

  it('seals under the first key of a ring and opens what any of its keys sealed', () => {
    const [fresh, previous, stranger] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const ring = createSealedBoxRing([fresh, previous]);
    const sealedBefore = createSealedBox(previous).seal('link', 'invite-1');
    expect(ring.open(sealedBefore, 'invite-1')).toBe('link');
    expect(createSealedBox(fresh).open(ring.seal('link', 'invite-1'), 'invite-1')).toBe('link');
    expect(() =>
      ring.open(createSealedBox(stranger).seal('link', 'invite-1'), 'invite-1'),
    ).toThrow();
    expect(() => ring.open(sealedBefore, 'invite-2')).toThrow();
    expect(() => createSealedBoxRing([])).toThrow();
  });
});
