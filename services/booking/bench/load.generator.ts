import type { Pool } from 'undici';

/** One HTTP request the generator sends. */
export interface LoadRequest<Tag extends string = string> {
  tag: Tag;
  method: 'GET' | 'POST';
  path: string;
  token: string;
  body?: unknown;
}

/** What came back, with both clocks: on the wire, and since the request was due. */
export interface LoadResult<Tag extends string = string> {
  request: LoadRequest<Tag>;
  /** HTTP status, or 0 when the request failed without an answer (timeout, reset). */
  status: number;
  body: unknown;
  /** From sending to the end of the response body. */
  serviceMs: number;
  /** From the moment the request was due (its arrival) to the end of the response body. */
  responseMs: number;
  /** How long it waited in the generator for a free connection after it was due. */
  queuedMs: number;
  error?: string;
}

export interface LoadRun<Tag extends string> {
  results: LoadResult<Tag>[];
  elapsedMs: number;
}

/**
 * Sends `requests` over at most `concurrency` keep-alive connections. With several pools (one per
 * service replica) worker w always uses pool w mod n, so in-flight requests spread evenly.
 *
 * Arrival model: with `ratePerSecond` 0 every request is due at the start (a flash sale: everyone
 * arrives at once); otherwise request i is due at i / rate (open arrival). Either way a request
 * that finds every connection busy waits, and `responseMs` counts from when it was due, so a slow
 * server is not hidden by the generator sending less (coordinated omission); `serviceMs` is the
 * time on the wire only.
 */
export async function runLoad<Tag extends string>(
  pools: readonly Pool[],
  requests: readonly LoadRequest<Tag>[],
  options: { concurrency: number; ratePerSecond?: number; timeoutMs?: number },
): Promise<LoadRun<Tag>> {
  const rate = options.ratePerSecond ?? 0;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const results: LoadResult<Tag>[] = new Array(requests.length);
  const start = performance.now();
  const dueAt = (i: number) => (rate > 0 ? start + (i * 1000) / rate : start);
  let next = 0;

  async function worker(_: unknown, w: number) {
    const pool = pools[w % pools.length]!;
    for (;;) {
      const i = next;
      next += 1;
      if (i >= requests.length) return;
      const due = dueAt(i);
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      results[i] = await send(pool, requests[i]!, due, timeoutMs);
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { results, elapsedMs: performance.now() - start };
}

async function send<Tag extends string>(
  pool: Pool,
  request: LoadRequest<Tag>,
  due: number,
  timeoutMs: number,
): Promise<LoadResult<Tag>> {
  const sent = performance.now();
  const queuedMs = Math.max(0, sent - due);
  try {
    const response = await pool.request({
      method: request.method,
      path: request.path,
      headers: {
        authorization: `Bearer ${request.token}`,
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: request.body !== undefined ? JSON.stringify(request.body) : null,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    const done = performance.now();
    return {
      request,
      status: response.statusCode,
      body: text ? safeJson(text) : undefined,
      serviceMs: done - sent,
      responseMs: done - due,
      queuedMs,
    };
  } catch (error) {
    const done = performance.now();
    return {
      request,
      status: 0,
      body: undefined,
      serviceMs: done - sent,
      responseMs: done - due,
      queuedMs,
      error: (error as Error).message,
    };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
