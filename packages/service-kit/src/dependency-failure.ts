// A socket to the server could not be opened, or broke.
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// Postgres ended or refused the session: an operator's or a crash's shutdown, a server still
// starting, every connection slot taken. Class 08 (connection exceptions) is matched whole.
const POSTGRES_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);

// Clients that say it only in words: pg, pg-pool and ioredis.
const UNAVAILABLE_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Command timed out',
  'Connection is closed.',
]);

function saysUnavailable(error: Error): boolean {
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (UNAVAILABLE_MESSAGES.has(error.message)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return SOCKET_CODES.has(code) || POSTGRES_UNAVAILABLE.has(code) || code.startsWith('08');
}

/**
 * Whether `error` says that a server the service depends on (Postgres, Redis, RabbitMQ) could not
 * be reached or stopped answering, rather than that the request or the code is wrong: the same
 * request may succeed once the server is back. Looks through `cause` and an AggregateError's
 * errors (a host name that resolves to several addresses fails with one per address).
 */
export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  if (saysUnavailable(error)) return true;
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.every((inner) => isDependencyUnavailable(inner, depth + 1));
  }
  return isDependencyUnavailable(error.cause, depth + 1);
}
