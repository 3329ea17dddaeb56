import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DomainError } from './domain-error.ts';
import {
  cursorBigint,
  cursorTimestamp,
  decodeCursor,
  encodeCursor,
  pageQuerySchema,
  toPage,
} from './pagination.ts';

const cursorSchema = z.object({ startsAt: z.string(), id: z.uuid() });
const position = {
  startsAt: '2030-01-01T10:00:00.000Z',
  id: '0b9f4c7e-8a39-4b53-9a4e-9d9a1c4f0a11',
};

describe('pageQuerySchema', () => {
  it('defaults the limit to 20 and coerces strings', () => {
    expect(pageQuerySchema.parse({})).toEqual({ limit: 20 });
    expect(pageQuerySchema.parse({ limit: '5', cursor: 'abc' })).toEqual({
      limit: 5,
      cursor: 'abc',
    });
  });

  it('names the range for a number out of it, decimal digits for anything else', () => {
    const messageFor = (limit: string) =>
      pageQuerySchema.safeParse({ limit }).error?.issues[0]?.message;
    expect(messageFor('0')).toMatch(/>=1/);
    expect(messageFor('101')).toMatch(/<=100/);
    expect(messageFor('99999999999')).toMatch(/<=100/);
    expect(messageFor('0x10')).toBe('Expected a whole number in decimal digits');
  });

  it.each([
    '0',
    '101',
    '2.5',
    'ten',
    '0x10',
    '1e1',
    ' 5',
    '',
    '+5',
    '-1',
  ])('rejects limit=%j', (limit) => {
    expect(pageQuerySchema.safeParse({ limit }).success).toBe(false);
  });
});

describe('cursors', () => {
  it('round-trips a keyset position as url-safe text', () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, cursorSchema)).toEqual(position);
  });

  it.each([
    ['not base64 json', '!!!'],
    ['json of the wrong shape', encodeCursor({ startsAt: 1 })],
    ['truncated', encodeCursor(position).slice(0, 10)],
    ['holding a NUL character', encodeCursor({ ...position, startsAt: 'x\u0000' })],
  ])('rejects a cursor that is %s with INVALID_CURSOR', (_label, cursor) => {
    let caught: unknown;
    try {
      decodeCursor(cursor, cursorSchema);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect(caught).toMatchObject({
      code: 'INVALID_CURSOR',
      status: 400,
      extra: { errors: [{ path: 'query.cursor', message: expect.any(String) }] },
    });
  });
});

describe('cursor fields', () => {
  it.each([
    '2026-11-22T10:00:00.000Z',
    '2026-11-22 10:00:00.123456+00',
    '2026-11-22 10:00:00+05:30',
    '2026-11-22 10:00:00+15:59',
    '2026-11-22 10:00:00-15:59',
    '2026-11-22 10:00:00-15',
  ])('takes the timestamp %s', (text) => {
    expect(cursorTimestamp.safeParse(text).success).toBe(true);
  });

  it.each([
    'x',
    '2026-13-45 10:00:00+00',
    '2026-02-30 10:00:00+00',
    '0000-01-01T00:00:00Z',
    '2026-01-01T00:00:00+00:0',
    '2026-11-22',
    "2026-11-22 10:00:00+00'; --",
    // Offsets Postgres refuses ("time zone displacement out of range"): at most ±15:59.
    '2026-11-22 10:00:00+16',
    '2026-11-22 10:00:00-16:00',
    '2026-11-22 10:00:00+99',
    '2026-11-22 10:00:00+15:60',
    '2026-11-22 10:00:00+00:99',
  ])('refuses the timestamp %s', (text) => {
    expect(cursorTimestamp.safeParse(text).success).toBe(false);
  });

  it('takes bigint keys within range only', () => {
    expect(cursorBigint.safeParse('123').success).toBe(true);
    expect(cursorBigint.safeParse('99999999999999999999').success).toBe(false);
    expect(cursorBigint.safeParse('-1').success).toBe(false);
  });
});

describe('toPage', () => {
  const rows = [1, 2, 3].map((n) => ({ n }));

  it('returns a cursor at the last item when an extra row was fetched', () => {
    const page = toPage(rows, 2, (last) => last.n);
    expect(page.items).toEqual([{ n: 1 }, { n: 2 }]);
    expect(decodeCursor(page.nextCursor!, z.number())).toBe(2);
  });

  it('has no next cursor on the last page', () => {
    expect(toPage(rows, 3, (last) => last.n)).toEqual({ items: rows, nextCursor: null });
  });
});
