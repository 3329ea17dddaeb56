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

// Redis refusing for a while rather than for the command: out of memory under `noeviction`, a
// replica after a failover (the client still on the demoted primary), a server still loading its
// data, a primary without its replicas, a cluster moving or missing slots. Redis starts such a reply
// (also when a script's command met it) with the condition's name.
const REDIS_UNAVAILABLE = /^(OOM|READONLY|LOADING|MASTERDOWN|NOREPLICAS|TRYAGAIN|CLUSTERDOWN) /;

function saysUnavailable(error: Error): boolean {
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (UNAVAILABLE_MESSAGES.has(error.message)) return true;
  if (error.name === 'ReplyError' && REDIS_UNAVAILABLE.test(error.message)) return true;
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

// Postgres rolled the transaction back because of a concurrent one (a serialization failure, a
// deadlock it ended this side of): the same request may well succeed when sent again.
const CONCURRENCY_ROLLBACKS = new Set(['40001', '40P01']);

/**
 * Whether `error` (or its `cause`) is Postgres ending the transaction for a concurrent one's sake
 * (SQLSTATE 40001 or 40P01), rather than for anything the request or the code did.
 */
export function isConcurrencyRollback(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONCURRENCY_ROLLBACKS.has(code)) return true;
  return isConcurrencyRollback(error.cause, depth + 1);
}
