/** Header carrying, upstream, the `x-request-id` the client sent (the gateway assigns its own). */
export const CLIENT_REQUEST_ID_HEADER = 'x-client-request-id';

// It ends up in the services' logs: printable ASCII without spaces, and short.
const WELL_FORMED = /^[\x21-\x7e]{1,128}$/;

/** The client's own request id, if it sent one that is well-formed; undefined otherwise. */
export function clientRequestIdOf(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && WELL_FORMED.test(value) ? value : undefined;
}
