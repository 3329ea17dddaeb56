import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from './domain-error.ts';

// A plain integer, or a strong or weak entity tag wrapping one: 3, "3", W/"3".
const VERSION_TAG = /^(?:W\/)?(?:"(\d{1,15})"|(\d{1,15}))$/;

/** What a PATCH's `If-Match` asks for: one version of the resource, or `*`, whichever is current. */
export type ExpectedVersion = number | '*';

/**
 * The `If-Match` header of a PATCH, as the route's `headers` schema. The document shows it
 * required; validation lets a missing one through, so the route checks access first (a stranger
 * gets its 404 or 403) and `ifMatchVersion` then answers 428, not a 400 from validation.
 */
export const ifMatchHeadersSchema = z
  .object({
    'if-match': z.string().optional().meta({
      description:
        'The version of the resource being changed, as its ETag ("3") or 3; or * to change whichever version is current.',
    }),
  })
  .meta({ required: ['if-match'] });

/** The version a PATCH expects, from `If-Match` (a version or `*`); 428 when absent, 400 when malformed. */
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
  const match = VERSION_TAG.exec(value);
  const digits = match?.[1] ?? match?.[2];
  if (digits === undefined) {
    throw new DomainError(
      'INVALID_IF_MATCH',
      400,
      'If-Match must hold a single resource version, or *.',
    );
  }
  return Number(digits);
}

/** Throws the 412 unless `expected` (from `ifMatchVersion`) is `*` or the `current` version. */
export function assertVersion(resource: string, current: number, expected: ExpectedVersion): void {
  if (expected !== '*' && expected !== current) throw versionMismatch(resource, current, expected);
}

/** The 412 of a change whose expected version (If-Match) is not the resource's current one. */
export function versionMismatch(resource: string, current: number, expected?: number): DomainError {
  const not = expected === undefined ? '' : `, not ${expected}`;
  return new DomainError(
    'VERSION_MISMATCH',
    412,
    `The ${resource} is at version ${current}${not}.`,
    {
      currentVersion: current,
    },
  );
}
