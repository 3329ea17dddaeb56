import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import { isConcurrencyRollback, isDependencyUnavailable } from './dependency-failure.ts';
import { isDomainError } from './domain-error.ts';
import {
  type FieldError,
  MAX_FIELD_ERRORS,
  PROBLEM_CONTENT_TYPE,
  problem,
  sendProblem,
} from './problem.ts';
import { REQUEST_ID_HEADER } from './request-id.ts';

const CLIENT_ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  431: 'HEADERS_TOO_LARGE',
};

/** Seconds a client is asked to wait before retrying a request a dependency's outage failed. */
const DEPENDENCY_RETRY_AFTER_SECONDS = 2;
// A transaction rolled back for a concurrent one's sake: the other is done within moments.
const CONFLICT_RETRY_AFTER_SECONDS = 1;

// fastify's JSON body parser refusing a body: bad input like any other, named as the body's.
const BODY_NOT_JSON = 'FST_ERR_CTP_INVALID_JSON_BODY';

const VALIDATION_CONTEXT: Readonly<Record<string, string>> = { querystring: 'query' };

/**
 * Field paths like `body.seats` or `query.limit` from fastify's validation errors; an unknown key
 * is named at its own path (`query.Status`), one error per key; at most `MAX_FIELD_ERRORS`.
 */
export function fieldErrors(error: FastifyError): FieldError[] {
  const context = error.validationContext ?? 'body';
  const prefix = VALIDATION_CONTEXT[context] ?? context;
  const named = (error.validation ?? []).slice(0, MAX_FIELD_ERRORS).flatMap((v) => {
    const segments = [prefix, ...v.instancePath.split('/').filter(Boolean)];
    const unknown = v.keyword === 'unrecognized_keys' ? v.params.keys : undefined;
    if (Array.isArray(unknown) && unknown.length > 0) {
      return unknown.map((key) => ({
        path: [...segments, String(key)].join('.'),
        message: `Unknown field "${String(key)}"`,
      }));
    }
    return [{ path: segments.join('.'), message: v.message ?? 'Invalid value' }];
  });
  return named.slice(0, MAX_FIELD_ERRORS);
}

function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (isDomainError(error)) {
    request.log[error.status >= 500 ? 'error' : 'info']({ err: error }, 'domain error');
    return sendProblem(reply, problem(error.status, error.code, error.detail, error.extra));
  }
  if (error.validation || error.code === BODY_NOT_JSON) {
    const errors = error.validation
      ? fieldErrors(error)
      : [{ path: 'body', message: error.message }];
    request.log.info({ errors }, 'request validation failed');
    return sendProblem(
      reply,
      problem(400, 'VALIDATION_FAILED', 'The request is not valid.', { errors }),
    );
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    request.log.info({ err: error }, 'client error');
    // fastify's own 4xx messages describe the request, never the server.
    return sendProblem(
      reply,
      problem(status, CLIENT_ERROR_CODES[status] ?? 'CLIENT_ERROR', error.message),
    );
  }
  if (isDependencyUnavailable(error)) {
    request.log.error({ err: error }, 'a dependency is unavailable');
    return sendProblem(
      reply,
      problem(503, 'SERVICE_UNAVAILABLE', 'A server this service depends on is unavailable.', {
        retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS,
      }),
    );
  }
  if (isConcurrencyRollback(error)) {
    request.log.warn({ err: error }, 'rolled back for a concurrent transaction');
    return sendProblem(
      reply,
      problem(
        503,
        'TRANSIENT_CONFLICT',
        'The request met a concurrent one and was rolled back; it may be sent again.',
        { retryAfterSeconds: CONFLICT_RETRY_AFTER_SECONDS },
      ),
    );
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(reply, problem(500, 'INTERNAL', 'An unexpected error occurred.'));
}

// The router refusing a path before any route or hook runs.
const PATH_NOT_DECODABLE = 'FST_ERR_BAD_URL';

/**
 * fastify's `frameworkErrors`: the router refusing a path (a parameter that is not valid
 * percent-encoding, or longer than the router takes) answers before any hook runs, so this sets
 * the request id itself and answers problem+json like every other error.
 */
export function handleFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  reply.header(REQUEST_ID_HEADER, request.id);
  if (error.code === PATH_NOT_DECODABLE) {
    request.log.info({ err: error }, 'request path not decodable');
    return sendProblem(
      reply,
      problem(400, 'VALIDATION_FAILED', 'The request is not valid.', {
        errors: [{ path: 'params', message: 'A path segment is not valid percent-encoding.' }],
      }),
    );
  }
  return handleError(error, request, reply);
}

/** Installs the problem+json error and not-found handlers on the root instance. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(404, 'NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );
}

/** What Node's HTTP parser refused, as an answer: the default for a request that is not HTTP. */
function clientErrorAnswer(code: string | undefined): [number, string, string] {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return [408, 'REQUEST_TIMEOUT', 'The request did not arrive in time.'];
  if (code === 'HPE_HEADER_OVERFLOW')
    return [431, 'HEADERS_TOO_LARGE', 'The request line or its headers are too large.'];
  return [400, 'BAD_REQUEST', 'The request is not well-formed HTTP.'];
}

/**
 * fastify's `clientErrorHandler`: Node's HTTP parser refusing a request before fastify sees it (a
 * `Content-Length` beside `Transfer-Encoding`, headers or a URL too large, a request too slow)
 * answers problem+json with a request id of its own, like every other error, then closes the
 * connection, as Node does.
 */
export function clientErrorHandler(logger: FastifyBaseLogger) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, code, detail] = clientErrorAnswer(error.code);
    const requestId = randomUUID();
    // Debug: anyone can send malformed requests, and each would be a log line. Not the error
    // itself: the parser's carries the request's raw bytes (`rawPacket`), credentials included.
    logger.debug(
      { err: { type: error.name, code: error.code, message: error.message }, requestId, status },
      'malformed request refused',
    );
    if (socket.writable) {
      const body = JSON.stringify(problem(status, code, detail));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
          `Content-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          `${REQUEST_ID_HEADER}: ${requestId}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}
