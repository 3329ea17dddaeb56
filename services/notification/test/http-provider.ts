import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake provider received. */
export interface ProviderRequest {
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  body: Record<string, unknown>;
}

/**
 * A local HTTP server standing in for an SMS or push provider; its answer can be switched, its
 * body too (raw, as a provider might send it).
 */
export async function startHttpProvider() {
  const requests: ProviderRequest[] = [];
  let status = 200;
  let rawBody: string | undefined;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      requests.push({
        authorization: req.headers.authorization,
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
        body: JSON.parse(raw || '{}') as Record<string, unknown>,
      });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        rawBody ??
          JSON.stringify(
            status < 300 ? { id: `prov-${requests.length}` } : { error: 'unavailable' },
          ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/messages`,
    requests,
    /** Answers `next` from now on, with `body` as it is, or the usual JSON body. */
    answer(next: number, body?: string) {
      status = next;
      rawBody = body;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
