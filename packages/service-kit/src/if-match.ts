import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from './domain-error.ts';

// One member of an If-Match list and the comma after it (or the end): an entity tag, strong ("3")
// or weak (W/"3"), or, leniently, a bare version number (3).
// Empty members are skipped, as RFC 9110 §5.6.1 asks of a recipient.
const LIST_MEMBER = /[ \t]*(?:(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"|(\d{1,15}))?[ \t]*(?:,|$)/y;
// The tags issued are versions written without leading zeros: "03" was never issued.
const VERSION = /^(?:0|[1-9]\d{0,14})$/;

/**
 * What a PATCH's `If-Match` asks for: `*` (whichever version is current), or the versions it
 * names, any of which may be current (none when it names only weak or foreign tags).
 */
export type ExpectedVersion = '*' | readonly number[];

/**
 * The `If-Match` header of a PATCH, as the route's `headers` schema. The document shows it
 * required; validation lets a missing one through, so the route checks access first (a stranger
 * gets its 404 or 403) and `ifMatchVersion` then answers 428, not a 400 from validation.
 */
export const ifMatchHeadersSchema = z
  .object({
    'if-match': z.string().optional().meta({
      description:
        'The version of the resource being changed, as its ETag ("3"; a list such as "2", "3" matches either; a weak tag never matches) or 3; or * to change whichever version is current.',
    }),
  })
  .meta({ required: ['if-match'] });

/**
 * The versions a PATCH expects, from `If-Match` (RFC 9110 §13.1.1: `*`, or a list of entity tags
 * compared strongly, so a weak tag or one this service never issued matches nothing and ends in
 * 412); 428 when absent, 400 when malformed.
 */
export function ifMatchVersion(request: FastifyRequest): ExpectedVersion {
  const header = request.headers['if-match'];
  if (header === undefined || header === '') {
    throw new DomainError(
      'PRECONDITION_REQUIRED',
      428,
      'Send If-Match with the version of the resource you are changing, or * for any.',
    );
  }
  const value = header.trim();
  // RFC 9110 §13.1.1: `*` holds whenever the resource exists; it is a precondition all the same.
  if (value === '*') return '*';
  const versions: number[] = [];
  LIST_MEMBER.lastIndex = 0;
  while (LIST_MEMBER.lastIndex < value.length) {
    const match = LIST_MEMBER.exec(value);
    if (!match) {
      throw new DomainError(
        'INVALID_IF_MATCH',
        400,
        'If-Match must hold the entity tags of the versions you expect (e.g. "3"), or *.',
      );
    }
    const [, weak, opaque, bare] = match;
    if (bare !== undefined) {
      if (VERSION.test(bare)) versions.push(Number(bare));
    } else if (!weak && VERSION.test(opaque ?? '')) versions.push(Number(opaque));
  }
  return versions;
}

/** Throws the 412 unless `expected` (from `ifMatchVersion`) is `*` or names the `current` version. */
export function assertVersion(resource: string, current: number, expected: ExpectedVersion): void {
  if (expected !== '*' && !expected.includes(current)) {
    throw versionMismatch(resource, current, expected);
  }
}

/** The 412 of a change whose expected versions (If-Match) do not include the current one. */
export function versionMismatch(
  resource: string,
  current: number,
  expected?: readonly number[],
): DomainError {
  const not = expected?.length ? `, not ${expected.join(' or ')}` : '';
  return new DomainError(
    'VERSION_MISMATCH',
    412,
    `The ${resource} is at version ${current}${not}.`,
    {
      currentVersion: current,
    },
  );
}

/** Answers `resource` with its version as its ETag: the next change's If-Match needs no GET first. */
export function withEtag<T extends { version: number }>(reply: FastifyReply, resource: T): T {
  reply.header('etag', `"${resource.version}"`);
  return resource;
}
