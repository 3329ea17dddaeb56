import rateLimit from '@fastify/rate-limit';
import replyFrom from '@fastify/reply-from';
import { DomainError, problem, REQUEST_ID_HEADER, sendProblem } from '@happening/service-kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { addressBucket } from '../address-bucket.ts';
import { onBodyStart } from '../body-start.ts';
import { CLIENT_REQUEST_ID_HEADER, clientRequestIdOf } from '../client-request-id.ts';
import type { FirstContact } from '../first-contact.ts';
import { withoutGatewayOnly } from '../gateway-only-headers.ts';
import { createRedisGate, gatedRedisStore, type RedisGate } from '../rate-limit-store.ts';
import { rewrittenByUrlParser, routeFor, type Upstream } from '../route-table.ts';
import { upstreamBodyFailure, upstreamFailure } from '../upstream-failure.ts';

/** Redis key prefix of every rate-limit counter the gateway keeps. */
export const RATE_LIMIT_PREFIX = 'gateway:ratelimit:';

export interface ProxyOptions {
  upstreams: Readonly<Record<Upstream, string>>;
  redis: Redis;
  rateLimit: { perSubjectPerMinute: number; perIpPerMinute: number; redisCoolDownMs: number };
  upstreamTimeoutMs: number;
  bodyLimit: number;
  /** Told of each caller of another service than identity-org (see `createFirstContact`). */
  firstContact: FirstContact;
}

const PROXIED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const BODYLESS_METHODS = new Set(['GET', 'HEAD']);

function rateLimited(_request: FastifyRequest, context: { after: string }) {
  return new DomainError('RATE_LIMITED', 429, `Too many requests; retry in ${context.after}.`);
}

function limiter(
  redis: Redis,
  gate: RedisGate,
  scope: string,
  max: number,
  keyOf: (r: FastifyRequest) => string,
) {
  return {
    global: true,
    store: gatedRedisStore(redis, `${RATE_LIMIT_PREFIX}${scope}:`, gate),
    max,
    timeWindow: 60_000,
    keyGenerator: keyOf,
    errorResponseBuilder: rateLimited,
    // Redis trouble must not take the API down with it: count again once it is back.
    skipOnError: true,
  };
}

/**
 * Hop-by-hop headers, both ways: they concern one connection (the client's to the gateway, or the
 * gateway's to an upstream, which says `Connection: close` while it drains), not the next hop.
 * reply-from drops `transfer-encoding` and, on requests only, `connection` and what it names;
 * the upstream client refuses some of them (`expect`, `keep-alive`, `upgrade`), which would
 * answer 502, and passed on to clients they would close or time their connection.
 */
const HOP_BY_HOP = [
  'connection',
  'expect',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
];

function withoutHopByHop<T extends Record<string, unknown>>(headers: T): T {
  // The Connection header may name more headers meant for this hop only.
  const named = [headers.connection]
    .flat()
    .filter((value): value is string => typeof value === 'string')
    .flatMap((value) => value.split(','))
    .map((name) => name.trim().toLowerCase());
  const kept = { ...headers };
  for (const name of [...HOP_BY_HOP, ...named]) delete kept[name];
  return kept;
}

/**
 * The upstream's headers with the `Vary` the gateway set itself (CORS's `Origin`) kept beside
 * the upstream's own: copied over it, a shared cache could hand one origin's answer to another.
 */
function withVaryOf<T extends Record<string, unknown>>(reply: FastifyReply, headers: T): T {
  const ours = reply.getHeader('vary');
  if (ours === undefined || headers.vary === undefined) return headers;
  const names = [ours, headers.vary]
    .flat()
    .flatMap((value) => String(value).split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  // Each name once, as first written (ours first).
  const unique = new Map<string, string>();
  for (const name of names)
    if (!unique.has(name.toLowerCase())) unique.set(name.toLowerCase(), name);
  return { ...headers, vary: [...unique.values()].join(', ') };
}

/**
 * `/v1/*` forwarded by the route map. In order: the per-IP limit, the bearer token (401 before
 * any upstream is asked), the per-subject limit, the body (up to `bodyLimit`), the upstream.
 */
export async function proxyRoutes(app: FastifyInstance, options: ProxyOptions): Promise<void> {
  const { redis } = options;
  const gate = createRedisGate(
    redis,
    app.log.child({ component: 'rate-limit' }),
    options.rateLimit.redisCoolDownMs,
  );
  await app.register(
    rateLimit,
    limiter(redis, gate, 'ip', options.rateLimit.perIpPerMinute, (request) =>
      addressBucket(request.ip),
    ),
  );

  await app.register(async (api) => {
    api.addHook('preParsing', async (request, reply) => {
      await api.authenticate(request, reply);
    });
    await api.register(rateLimit, {
      ...limiter(
        redis,
        gate,
        'sub',
        options.rateLimit.perSubjectPerMinute,
        (request) => request.principal.sub,
      ),
      hook: 'preParsing',
    });

    // Bodies are forwarded byte for byte; parsing them as buffers still enforces the limit.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: options.bodyLimit },
      (_request, body, done) => done(null, body),
    );

    await api.register(replyFrom, {
      disableRequestLogging: true,
      undici: {
        connect: { timeout: Math.min(options.upstreamTimeoutMs, 2000) },
        headersTimeout: options.upstreamTimeoutMs,
        bodyTimeout: options.upstreamTimeoutMs,
      },
    });

    api.route({
      method: [...PROXIED_METHODS],
      url: '/v1/*',
      handler: (request, reply) => {
        const queryAt = request.url.indexOf('?');
        const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
        // The query goes on as it came: reply-from would decode and check it with the path
        // (`?q=100%` a 500, `?next=../x` a 400), though only the path is routed.
        const query = queryAt === -1 ? '' : request.url.slice(queryAt + 1);
        const upstream = rewrittenByUrlParser(path) ? undefined : routeFor(request.method, path);
        if (upstream === undefined) {
          throw new DomainError('NOT_FOUND', 404, `No route for ${request.method} ${path}.`);
        }
        const subject = request.principal.sub;
        if (upstream === 'identity-org') {
          // identity-org mirrors whoever it serves: nothing to introduce afterwards.
          reply.raw.once('finish', () => {
            if (reply.statusCode < 400) options.firstContact.met(subject);
          });
        } else {
          options.firstContact.seen(subject, request.headers.authorization ?? '');
        }
        const body = request.body as Buffer | undefined;
        /** Puts back the headers the gateway had set before the upstream's were copied in. */
        let withoutUpstreamHeaders = () => {};
        return reply.from(`${options.upstreams[upstream]}${path}`, {
          queryString: () => query,
          ...(body !== undefined && !BODYLESS_METHODS.has(request.method)
            ? { body, contentType: request.headers['content-type'] ?? 'application/octet-stream' }
            : {}),
          rewriteRequestHeaders: (req, headers) => {
            const clientRequestId = clientRequestIdOf(req.headers[REQUEST_ID_HEADER]);
            return {
              ...withoutGatewayOnly(withoutHopByHop(headers)),
              // Always the gateway's own (see `buildGateway`); the client's travels beside it.
              [REQUEST_ID_HEADER]: req.id,
              ...(clientRequestId === undefined
                ? {}
                : { [CLIENT_REQUEST_ID_HEADER]: clientRequestId }),
              // The client as the trusted hops name it (`TRUSTED_PROXY_HOPS`), never a chain the
              // client wrote: an upstream trusting the gateway alone reads the client from it.
              'x-forwarded-for': req.ip,
              'x-forwarded-proto': req.protocol,
              'x-forwarded-host': req.host,
            };
          },
          rewriteHeaders: (headers) => {
            const copied = withVaryOf(reply, withoutHopByHop(headers));
            const ours = reply.getHeaders();
            withoutUpstreamHeaders = () => {
              for (const name of Object.keys(copied)) reply.removeHeader(name);
              reply.headers(ours);
            };
            return copied;
          },
          // The status and headers go out with the body's first bytes (fastify writes them then):
          // until those come, a failing body still gets an answer of its own, not the upstream's
          // status and headers (a 201's Location and ETag, a Cache-Control) over a 500. Once
          // bytes went out, a failing body cuts the connection (fastify), as its length is unmet.
          onResponse: (_request, upstreamReply, res) => {
            const client = upstreamReply.raw;
            // Nothing writes to the client while the body's first bytes are awaited, so nothing
            // else notices it going away: the upstream request is ended at once, not kept busy
            // until its timeout, and nothing is answered or logged as the upstream's failure.
            let gone = false;
            const clientGone = () => {
              gone = true;
              res.stream.destroy();
            };
            if (client.destroyed) {
              clientGone();
              request.log.info({ upstream }, 'client gone before the upstream body started');
              return;
            }
            client.once('close', clientGone);
            onBodyStart(res.stream, (error) => {
              client.off('close', clientGone);
              if (gone || client.destroyed) {
                res.stream.destroy();
                request.log.info({ upstream }, 'client gone before the upstream body started');
                return;
              }
              if (error === undefined) {
                upstreamReply.send(res.stream);
                return;
              }
              res.stream.destroy();
              withoutUpstreamHeaders();
              const { status, code, detail, extra } = upstreamBodyFailure(upstream);
              request.log.warn(
                { upstream, status, code, upstreamStatus: upstreamReply.statusCode, err: error },
                'upstream body failed before its first byte',
              );
              sendProblem(upstreamReply as FastifyReply, problem(status, code, detail, extra));
            });
          },
          // Never replay a request on the upstream's behalf: a client may retry on 503 itself.
          retryDelay: () => null,
          onError: (failedReply, { error }) => {
            const { status, code, detail, extra } = upstreamFailure(upstream, error);
            // reply-from has already logged the error itself.
            request.log.warn({ upstream, status, code }, 'forward failed');
            sendProblem(failedReply as FastifyReply, problem(status, code, detail, extra));
          },
        });
      },
    });
  });
}
