import { z } from 'zod';
import { DomainError } from './domain-error.ts';
import { unstorableInputErrors } from './storable-input.ts';

/** Query text that is a whole number in decimal digits; anything else stays text and is refused. */
const DECIMAL_DIGITS = /^[0-9]+$/;

/**
 * A page size in the query string: decimal digits only, so `0x10`, `1e1`, ` 5` or an empty value
 * are refused rather than read as 16, 10, 5 or 0, as `Number()` would.
 */
export function pageLimit(max: number, fallback: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && DECIMAL_DIGITS.test(value) ? Number(value) : value),
    z
      .number({
        // Only for what is not a number: a number out of range gets its range named.
        error: (issue) =>
          issue.code === 'invalid_type' ? 'Expected a whole number in decimal digits' : undefined,
      })
      .int()
      .min(1)
      .max(max)
      .default(fallback),
  );
}

/**
 * `?limit=` (1..100, default 20) and an opaque `?cursor=`; any other parameter is refused, as an
 * unknown body field is: a misspelt filter (`?Status=`) would otherwise answer the unfiltered list.
 */
export const pageQuerySchema = z.strictObject({
  limit: pageLimit(100, 20),
  cursor: z.string().min(1).max(1024).optional(),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

/**
 * A timestamp in a cursor, as ISO 8601 or as Postgres prints a timestamptz (`2026-11-22
 * 10:00:00.123456+00`, microseconds kept): anything else would reach the database and fail there.
 */
export const cursorTimestamp = z.string().refine((text) => {
  const parts = CURSOR_TIMESTAMP.exec(text);
  if (!parts) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = parts
    .slice(1, 9)
    .map((part) => Number(part ?? 0)) as number[];
  // A real calendar date and time: JavaScript would roll 30 February over, Postgres refuses it.
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return (
    year! >= 1 &&
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! < 24 &&
    minute! < 60 &&
    second! < 60 &&
    // Postgres refuses a zone displacement beyond ±15:59 ("time zone displacement out of range").
    offsetHours! <= 15 &&
    offsetMinutes! < 60
  );
});
const CURSOR_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-](\d{2})(?::(\d{2}))?)$/;

/** A bigint key in a cursor (positive, within Postgres's bigint). */
export const cursorBigint = z.string().regex(/^\d{1,18}$/);

/** Encodes a keyset position as an opaque base64url cursor. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by `encodeCursor`; anything else (also one holding a NUL character) is a
 * 400 `INVALID_CURSOR`.
 */
export function decodeCursor<S extends z.ZodType>(cursor: string, schema: S): z.output<S> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  // The request's own text is checked for NUL; what the cursor hides is checked here.
  if (unstorableInputErrors('cursor', decoded).length > 0) throw invalidCursor();
  const result = schema.safeParse(decoded);
  if (!result.success) throw invalidCursor();
  return result.data;
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only proves a next page exists,
 * and the cursor points at the last row returned.
 */
export function toPage<T>(
  rows: readonly T[],
  limit: number,
  cursorOf: (last: T) => unknown,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}

function invalidCursor() {
  return new DomainError('INVALID_CURSOR', 400, 'The cursor is not valid.', {
    errors: [{ path: 'query.cursor', message: 'Not a cursor this list gave out' }],
  });
}
