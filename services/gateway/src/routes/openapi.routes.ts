import type { OpenApiDocument } from '@happening/service-kit';
import scalar from '@scalar/fastify-api-reference';
import type { FastifyInstance } from 'fastify';
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

async function fetchDocument(baseUrl: string, timeoutMs: number): Promise<OpenApiDocument> {
  const res = await fetch(`${baseUrl}/openapi.json`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
  return (await res.json()) as OpenApiDocument;
}

/**
 * `/openapi.json`: the upstreams' documents merged, fetched on demand and kept for a minute once
 * every upstream answered (until then an upstream that is down is listed in `x-unavailable`).
 * `/docs`: an interactive reference reading that document.
 */
export async function openApiRoutes(
  app: FastifyInstance,
  options: OpenApiRoutesOptions,
): Promise<void> {
  let cached: { document: OpenApiDocument; at: number } | undefined;

  app.get('/openapi.json', async (request) => {
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.document;
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
        request.log.warn({ upstream, err: result.reason }, 'upstream OpenAPI document unavailable');
      }
    });
    const { document, unrouted, conflicts } = mergeOpenApi(options.info, parts);
    if (unrouted.length > 0 || conflicts.length > 0) {
      request.log.warn({ unrouted, conflicts }, 'OpenAPI documents merged with differences');
    }
    if (unavailable.length > 0) return { ...document, 'x-unavailable': unavailable };
    cached = { document, at: Date.now() };
    return document;
  });

  await app.register(scalar, {
    routePrefix: '/docs',
    logLevel: 'warn',
    configuration: { url: '/openapi.json', title: options.info.title },
  });
}
