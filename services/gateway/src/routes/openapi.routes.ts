import type { OpenApiDocument } from '@happening/service-kit';
import scalar from '@scalar/fastify-api-reference';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { mergeOpenApi, type UpstreamDocument } from '../openapi.merge.ts';
import { UPSTREAMS, type Upstream } from '../route-table.ts';

export interface OpenApiRoutesOptions {
  upstreams: Readonly<Record<Upstream, string>>;
  info: OpenApiDocument['info'];
  /** How long each upstream may take to hand over its document. */
  timeoutMs: number;
}

// Upstream documents change only with a deployment; a minute keeps /docs cheap and current.
const CACHE_MS = 60_000;
// While an upstream is down, what the others answered is kept this long: the document needs no
// token and has no rate limit, so without it every anonymous request would ask every upstream
// again. Short, so the missing part is back soon after its upstream is.
const PARTIAL_CACHE_MS = 5_000;

type MergedDocument = OpenApiDocument & { 'x-unavailable'?: Upstream[] };

async function fetchDocument(baseUrl: string, timeoutMs: number): Promise<OpenApiDocument> {
  const res = await fetch(`${baseUrl}/openapi.json`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
  return (await res.json()) as OpenApiDocument;
}

/**
 * `/openapi.json`: the upstreams' documents merged, fetched on demand by one request at a time
 * (concurrent requests share its answer) and kept for a minute once every upstream answered;
 * while an upstream is down, it is listed in `x-unavailable` and the rest is kept for 5 seconds.
 * `/docs`: an interactive reference reading that document.
 */
export async function openApiRoutes(
  app: FastifyInstance,
  options: OpenApiRoutesOptions,
): Promise<void> {
  let cached: { document: MergedDocument; until: number } | undefined;
  let inFlight: Promise<MergedDocument> | undefined;

  async function load(log: FastifyBaseLogger): Promise<MergedDocument> {
    const results = await Promise.allSettled(
      UPSTREAMS.map((upstream) => fetchDocument(options.upstreams[upstream], options.timeoutMs)),
    );
    const parts: UpstreamDocument[] = [];
    const unavailable: Upstream[] = [];
    results.forEach((result, i) => {
      const upstream = UPSTREAMS[i] as Upstream;
      if (result.status === 'fulfilled') parts.push({ upstream, doc: result.value });
      else {
        unavailable.push(upstream);
        log.warn({ upstream, err: result.reason }, 'upstream OpenAPI document unavailable');
      }
    });
    const { document, unrouted, conflicts } = mergeOpenApi(options.info, parts);
    if (unrouted.length > 0 || conflicts.length > 0) {
      log.warn({ unrouted, conflicts }, 'OpenAPI documents merged with differences');
    }
    const complete = unavailable.length === 0;
    const merged: MergedDocument = complete
      ? document
      : { ...document, 'x-unavailable': unavailable };
    cached = { document: merged, until: Date.now() + (complete ? CACHE_MS : PARTIAL_CACHE_MS) };
    return merged;
  }

  app.get('/openapi.json', async (request) => {
    if (cached && Date.now() < cached.until) return cached.document;
    inFlight ??= load(request.log).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  });

  await app.register(scalar, {
    routePrefix: '/docs',
    logLevel: 'warn',
    configuration: { url: '/openapi.json', title: options.info.title },
  });
}
