import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';

/** Media type of every error body. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One invalid field of a 400 answer. */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * Most field errors one answer names (and its log line holds): a body of many bad values is
 * refused as well by its first ones, and answering each would make the answer and the log many
 * times the size of the request.
 */
export const MAX_FIELD_ERRORS = 20;

/** RFC 9457 body with Happening's stable `code` (and `errors` for validation failures). */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

/** Builds a problem body; `extra` fields are merged but never override the standard ones. */
export function problem(
  status: number,
  code: string,
  detail: string,
  extra: Readonly<Record<string, unknown>> = {},
): ProblemBody {
  return {
    ...extra,
    type: `urn:happening:problem:${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    code,
  };
}

/**
 * Sends `body` as application/problem+json with its status; a 429 or 503 whose body says when to
 * try again (`retryAfterSeconds`) says it in `Retry-After` too.
 */
export function sendProblem(reply: FastifyReply, body: ProblemBody): FastifyReply {
  const mayRetry = body.status === 503 || body.status === 429;
  if (mayRetry && typeof body.retryAfterSeconds === 'number') {
    reply.header('retry-after', String(body.retryAfterSeconds));
  }
  return reply.status(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}
