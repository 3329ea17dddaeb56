import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import { clientErrorHandler, handleFrameworkError, installErrorHandling } from './error-handler.ts';
import { createLogger } from './logger.ts';
import { installObservability, type ReadinessCheck } from './observability.routes.ts';
import { installOpenApi, type OpenApiInfo } from './openapi.plugin.ts';
import { clientRequestIdOf, REQUEST_ID_HEADER, requestIdOf } from './request-id.ts';
import { isDraining, startDraining } from './shutdown-drain.ts';
import { installStorableInputGuard } from './storable-input.ts';

/**
 * Longest path parameter the router hands to a route (fastify's default is 100): the routes'
 * schemas decide what a parameter may be (a user id takes up to 255 characters), and only a
 * longer one is refused by the router, as 414. Routes take no regular-expression parameters, the
 * cost the router's limit guards against.
 */
const MAX_PATH_PARAMETER_LENGTH = 1024;

/**
 * Milliseconds a client has to send a whole request, headers and body, once it has begun; a
 * request still incomplete then is answered 408 and its connection closed. Without it (Node's
 * `requestTimeout` is 0 under fastify) a client that sends its headers and part of the body holds
 * the connection for ever, and keeps a shutdown's close() waiting. Generous for any body up to the
 * body limit; a request's handling, once it has arrived, is not bounded by it.
 */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Most milliseconds between Node's checks for requests past their timeout (its default is 30 s). */
const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** The query of a route that takes no parameters. */
const NO_QUERY = z.strictObject({});
/** The body of an API route that declares none: nothing, or an empty JSON object. */
const NO_BODY = z.strictObject({}).nullish();
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A Fastify instance typed with the zod type provider: route schemas are zod schemas. */
export type App = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface CreateAppOptions {
  /** Service name, stamped on every log line. */
  name: string;
  /** Defaults to an `info`-level pino logger named `name`. */
  logger?: Logger;
  /** Named dependency probes `/readyz` runs. */
  readinessChecks?: Readonly<Record<string, ReadinessCheck>>;
  /** Milliseconds each readiness check may take (default 2000). */
  readinessTimeoutMs?: number;
  /** Largest accepted request body in bytes (default 64 KiB). */
  bodyLimit?: number;
  /** Milliseconds a client has to send a whole request (default `REQUEST_TIMEOUT_MS`; for tests). */
  requestTimeoutMs?: number;
  /**
   * Info of the OpenAPI document at `/openapi.json` (default: title `name`, version 1.0.0);
   * `false` leaves the path free (the gateway serves a merged document there instead).
   */
  openapi?: OpenApiInfo | false;
  /** Fastify's `trustProxy`: whose `X-Forwarded-For` decides `request.ip` (default false). */
  trustProxy?: boolean | string | string[] | ((address: string, hop: number) => boolean);
}

/**
 * Builds a service's Fastify app with request ids, problem+json errors (NUL characters in params,
 * query or body refused as 400), health, metrics and an OpenAPI 3.1 document generated from the
 * zod route schemas.
 */
export function createApp(options: CreateAppOptions): App {
  // pino's Logger is a FastifyBaseLogger; the cast keeps App's logger type the public one.
  const logger = (options.logger ?? createLogger({ name: options.name })) as FastifyBaseLogger;
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = fastify({
    loggerInstance: logger,
    clientErrorHandler: clientErrorHandler(logger),
    genReqId: requestIdOf,
    // Every line of a request also carries the caller's own id, which the gateway passes on: a
    // client's report can be found by it.
    childLoggerFactory: (parent, bindings, options, rawRequest) => {
      const clientRequestId = clientRequestIdOf(rawRequest);
      return parent.child(
        clientRequestId === undefined ? bindings : { ...bindings, clientRequestId },
        options,
      );
    },
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    // A request that has not fully arrived in time is refused as 408 by `clientErrorHandler`.
    requestTimeout,
    http: {
      requestTimeout,
      // As Node's own default for a given requestTimeout: while the headers timeout is longer
      // than the request timeout (60 s, as when fastify sets only the latter), Node's check never
      // expires a request whose headers arrived but whose body did not.
      headersTimeout: Math.min(requestTimeout, 60_000),
      // Node looks for late requests every 30 s by default: a timeout of 30 s would be 30 to 60.
      connectionsCheckingInterval: Math.min(requestTimeout, MAX_TIMEOUT_CHECK_INTERVAL_MS),
    },
    trustProxy: options.trustProxy ?? false,
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    frameworkErrors: handleFrameworkError,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // An empty body sent as JSON is no body, as when no content type is sent: a route whose body is
  // optional takes it, one that needs a body answers its usual 400 naming the body.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text === '') done(null, undefined);
    else parseJson(request, text, done);
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });

  // Requests still running at close() would otherwise leave keep-alive sockets open, and the
  // server only finishes closing when the client drops them: ask clients to hang up instead.
  // From the start of the shutdown drain already, so that clients holding a connection open a
  // new one, which the load balancer sends to another instance.
  // A close() without a drain before it (tests, a fatal error) starts draining here.
  app.addHook('preClose', async () => {
    startDraining(app);
  });
  // An answer given before the request's body fully arrived (a hook refusing it early) leaves the
  // rest unread: the connection closes after it, rather than wait for a body nobody will read
  // and then time out with a 408 after the answer.
  app.addHook('onSend', async (request, reply) => {
    if (isDraining(app) || !request.raw.complete) reply.header('connection', 'close');
  });

  // An API route that declares no query parameters takes none: `GET /v1/me?verbose=1` is refused
  // as a list refuses its unknown parameters, rather than answered as if it were not there. One
  // that declares no body takes none either (an empty JSON object at most): a field sent to
  // `POST …/reconcile` is refused, as an unknown field of any body is, not silently dropped.
  // Routes without a schema (the gateway's proxy) are left as they are.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/') || !route.schema) return;
    if (route.schema.querystring === undefined) {
      route.schema = { ...route.schema, querystring: NO_QUERY };
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.schema.body === undefined && methods.some((method) => BODY_METHODS.has(method))) {
      route.schema = { ...route.schema, body: NO_BODY };
    }
  });

  // Before any route, so that every route declared afterwards is documented.
  if (options.openapi !== false) {
    installOpenApi(app, options.openapi ?? { title: options.name, version: '1.0.0' });
  }
  installErrorHandling(app);
  installStorableInputGuard(app);
  installObservability(app, {
    readinessChecks: options.readinessChecks ?? {},
    readinessTimeoutMs: options.readinessTimeoutMs ?? 2000,
  });
  return app;
}
