import type { OpenApiDocument } from '@happening/service-kit';
import fastify, { type FastifyInstance } from 'fastify';

/** What an echo upstream saw of a forwarded request. */
export interface Echo {
  upstream: string;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Header asking an echo upstream to wait this many milliseconds before answering. */
export const DELAY_HEADER = 'x-test-delay-ms';
/** Header asking an echo upstream to answer with this status. */
export const STATUS_HEADER = 'x-test-status';
/** Header asking an echo upstream to answer with these headers (a JSON object) as well. */
export const ANSWER_HEADERS_HEADER = 'x-test-answer-headers';

export interface EchoUpstream {
  name: string;
  url: string;
  /** Requests received on `/v1/...`, oldest first. */
  received: Echo[];
  /** How many times `/openapi.json` was asked for, and how long it takes to answer (ms). */
  openApi: { requests: number; delayMs: number };
  close(): Promise<void>;
}

/**
 * A real HTTP server standing in for a service: answers every `/v1/...` request with what it
 * received, serves `/healthz` and an OpenAPI document listing `paths`.
 */
export async function startEchoUpstream(
  name: string,
  paths: Readonly<Record<string, readonly string[]>> = {},
): Promise<EchoUpstream> {
  const app: FastifyInstance = fastify({ forceCloseConnections: true });
  const received: Echo[] = [];
  const openApi = { requests: 0, delayMs: 0 };
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/openapi.json', async (): Promise<OpenApiDocument> => {
    openApi.requests++;
    if (openApi.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, openApi.delayMs));
    return {
      openapi: '3.1.0',
      info: { title: name, version: '1.0.0', description: `The ${name} service.` },
      security: [{ bearerAuth: [] }],
      paths: Object.fromEntries(
        Object.entries(paths).map(([path, methods]) => [
          path,
          Object.fromEntries(
            methods.map((m) => [m, { responses: { 200: { description: 'OK' } } }]),
          ),
        ]),
      ),
      components: {
        schemas: { Problem: { type: 'object' }, [`${name}Thing`]: { type: 'object' } },
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      },
    };
  });
  app.all('/v1/*', async (request, reply) => {
    const delay = Number(request.headers[DELAY_HEADER] ?? 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const echo: Echo = {
      upstream: name,
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: typeof request.body === 'string' ? request.body : '',
    };
    received.push(echo);
    const status = Number(
      request.headers[STATUS_HEADER] ?? (request.method === 'POST' ? 201 : 200),
    );
    if (status === 503) reply.header('retry-after', '1');
    const answerHeaders = request.headers[ANSWER_HEADERS_HEADER];
    if (typeof answerHeaders === 'string') reply.headers(JSON.parse(answerHeaders));
    return reply.status(status).send(echo);
  });

  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { name, url, received, openApi, close: () => app.close() };
}
