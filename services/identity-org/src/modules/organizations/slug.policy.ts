const MAX_SLUG_LENGTH = 48;

/** URL-safe base slug for an organization name: lowercase ASCII words joined by dashes. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_SLUG_LENGTH)
    .replace(/-+$/, '');
  return slug === '' ? 'org' : slug;
}

/** Longest suffix a candidate takes ("-999999"): sign-ups will not run out of them. */
const MAX_SUFFIX_LENGTH = 7;

/**
 * What every candidate of `base` starts with: a long base is cut to make room for the suffix, so
 * a candidate of it need not start with the whole base.
 */
export function slugStem(base: string): string {
  return base.slice(0, MAX_SLUG_LENGTH - MAX_SUFFIX_LENGTH).replace(/-+$/, '');
}

/**
 * What sign-ups whose candidates may meet share: the stem without its trailing numbers, so
 * `club` (whose candidates are `club-2`, `club-3`, …), `club-2` (a name of its own) and
 * `club-2-2` all give `club`. Creations holding the same key pick their slugs one at a time.
 */
export function slugLockKey(base: string): string {
  return slugStem(base).replace(/(-[0-9]+)+$/, '');
}

/** The n-th candidate for `base` (n = 1 is the base itself, then base-2, base-3, ...). */
export function slugCandidate(base: string, n: number): string {
  if (n <= 1) return base;
  const suffix = `-${n}`;
  return `${base.slice(0, MAX_SLUG_LENGTH - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/** The first candidate of `base` not in `taken`. */
export function firstFreeSlug(base: string, taken: ReadonlySet<string>): string {
  for (let n = 1; ; n++) {
    const candidate = slugCandidate(base, n);
    if (!taken.has(candidate)) return candidate;
  }
}
