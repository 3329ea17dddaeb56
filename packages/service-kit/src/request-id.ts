import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Header carrying the request id in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';

// Ids end up in logs and response headers: accept only short, printable, unambiguous tokens.
const WELL_FORMED = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Keeps a well-formed incoming `x-request-id`, otherwise generates a UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : randomUUID();
}

/** Header the gateway passes a client's own request id on in (it assigns `x-request-id` itself). */
export const CLIENT_REQUEST_ID_HEADER = 'x-client-request-id';

/** A well-formed `x-client-request-id`, for the request's log lines; undefined otherwise. */
export function clientRequestIdOf(req: IncomingMessage): string | undefined {
  const incoming = req.headers[CLIENT_REQUEST_ID_HEADER];
  return typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : undefined;
}
