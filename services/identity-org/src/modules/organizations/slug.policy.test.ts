import { describe, expect, it } from 'vitest';
import { firstFreeSlug, slugCandidate, slugify, slugLockKey, slugStem } from './slug.policy.ts';

describe('slugify', () => {
  it('lowercases and joins words with dashes', () => {
    expect(slugify('  Acme Events  GmbH ')).toBe('acme-events-gmbh');
  });
  it('strips diacritics and punctuation', () => {
    expect(slugify('Café & Crème — Zürich!')).toBe('cafe-creme-zurich');
  });
  it('falls back when nothing URL-safe is left', () => {
    expect(slugify('???')).toBe('org');
    expect(slugify('東京')).toBe('org');
  });
  it('caps the length without a trailing dash', () => {
    const slug = slugify(`${'a'.repeat(47)} b`);
    expect(slug.length).toBeLessThanOrEqual(48);
    expect(slug.endsWith('-')).toBe(false);
  });
});

describe('firstFreeSlug', () => {
  it('keeps the base when free', () => {
    expect(firstFreeSlug('acme', new Set())).toBe('acme');
  });
  it('numbers the slug past taken ones', () => {
    expect(firstFreeSlug('acme', new Set(['acme', 'acme-2']))).toBe('acme-3');
  });
  it('keeps numbered candidates within the length cap', () => {
    const base = 'x'.repeat(48);
    expect(slugCandidate(base, 12)).toBe(`${'x'.repeat(45)}-12`);
  });
});

describe('slugStem', () => {
  it('is what every candidate starts with, a cut long base included', () => {
    for (const base of ['acme', 'a'.repeat(46), 'a'.repeat(48), `${'a'.repeat(40)}-bcdefg`]) {
      for (const n of [1, 2, 10, 999, 999_999])
        expect(slugCandidate(base, n).startsWith(slugStem(base))).toBe(true);
    }
  });
});

describe('slugLockKey', () => {
  it('is the same for a base and every base that is one of its candidates', () => {
    for (const base of ['club', 'org', 'x'.repeat(48), `${'y'.repeat(38)}-ab`, '2024']) {
      for (const n of [2, 3, 10, 99, 1000, 999_999]) {
        const candidate = slugCandidate(base, n);
        expect(slugLockKey(candidate), `${base} / ${candidate}`).toBe(slugLockKey(base));
        expect(slugLockKey(slugCandidate(candidate, 2))).toBe(slugLockKey(base));
      }
    }
  });
  it('differs for bases whose candidates cannot meet', () => {
    expect(slugLockKey('club')).not.toBe(slugLockKey('clubs'));
    expect(slugLockKey('club-2b')).not.toBe(slugLockKey('club'));
    expect(slugLockKey('2024')).toBe('2024');
  });
});
