import { describe, expect, it } from 'vitest';
import { storableText } from './provider-text.ts';

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
