import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { assertVersion, ifMatchHeadersSchema, ifMatchVersion } from './if-match.ts';

const withIfMatch = (value?: string) =>
  ({ headers: value === undefined ? {} : { 'if-match': value } }) as FastifyRequest;

describe('ifMatchVersion', () => {
  it.each([
    ['3', [3]],
    ['"12"', [12]],
    [' 0 ', [0]],
    ['"1", "2"', [1, 2]],
    ['"1",3', [1, 3]],
    // Compared strongly (RFC 9110 §13.1.1): a weak tag, or one never issued, matches nothing.
    ['W/"7"', []],
    ['"a"', []],
    ['"*"', []],
    ['"03"', []],
    ['"0003", 03', []],
    ['"a,b", W/"2", "5"', [5]],
    ['"1",, "2",', [1, 2]],
  ])('reads %s as versions %j', (header, versions) => {
    expect(ifMatchVersion(withIfMatch(header))).toEqual(versions);
  });

  it.each(['*', ' * '])('reads %j as any version', (header) => {
    expect(ifMatchVersion(withIfMatch(header))).toBe('*');
  });

  it('answers 428 PRECONDITION_REQUIRED when the header is missing', () => {
    expect(() => ifMatchVersion(withIfMatch())).toThrow(
      expect.objectContaining({ code: 'PRECONDITION_REQUIRED', status: 428 }),
    );
  });

  it.each([
    '-1',
    '1.5',
    'W/3x',
    'W/*',
    '**',
    '*, "3"',
    'a"b"',
    '"unclosed',
  ])('answers 400 for %s', (header) => {
    expect(() => ifMatchVersion(withIfMatch(header))).toThrow(
      expect.objectContaining({ code: 'INVALID_IF_MATCH', status: 400 }),
    );
  });

  it('is optional to header validation, so the route decides between 428 and its access errors', () => {
    expect(ifMatchHeadersSchema.safeParse({}).success).toBe(true);
    expect(ifMatchHeadersSchema.safeParse({ 'if-match': '"3"' }).data).toEqual({
      'if-match': '"3"',
    });
  });
});

describe('assertVersion', () => {
  it('lets the current version and * through', () => {
    expect(() => assertVersion('event', 4, [4])).not.toThrow();
    expect(() => assertVersion('event', 4, '*')).not.toThrow();
  });

  it('answers 412 VERSION_MISMATCH with the current version to any other', () => {
    expect(() => assertVersion('event', 4, [3])).toThrow(
      expect.objectContaining({
        code: 'VERSION_MISMATCH',
        status: 412,
        detail: 'The event is at version 4, not 3.',
        extra: { currentVersion: 4 },
      }),
    );
  });
});
