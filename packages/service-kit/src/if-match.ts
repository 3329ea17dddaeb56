import type { FastifyRequest } from 'fastify';
import { DomainError } from './domain-error.ts';

// A plain integer, or a strong or weak entity tag wrapping one: 3, "3", W/"3".
const VERSION_TAG = /^(?:W\/)?(?:"(\d{1,15})"|(\d{1,15}))$/;

/** The resource version a PATCH expects, from `If-Match`; 428 when absent, 400 when malformed. */
export function ifMatchVersion(request: FastifyRequest): number {
  const header = request.headers['if-match'];
  if (header === undefined || header === '') {
    throw new DomainError(
      'PRECONDITION_REQUIRED',
      428,
      'Send If-Match with the version of the resource you are changing.',
    );
  }
  const match = VERSION_TAG.exec(header.trim());
  const digits = match?.[1] ?? match?.[2];
  if (digits === undefined) {
    throw new DomainError('INVALID_IF_MATCH', 400, 'If-Match must hold a single resource version.');
  }
  return Number(digits);
}
