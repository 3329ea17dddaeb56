import type { FastifyInstance } from 'fastify';
import { httpRequestDuration, metricsRegistry } from './metrics.registry.ts';
import { problem, sendProblem } from './problem.ts';
import { isDraining } from './shutdown-drain.ts';

/** A named dependency probe; resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<unknown>;

type CheckOutcome = 'ok' | 'failed' | 'timeout';

async function runCheck(
  check: ReadinessCheck,
  timeoutMs: number,
): Promise<{ outcome: CheckOutcome; error?: unknown }> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const result = await Promise.race([
      check(controller.signal).then(() => 'ok' as const),
      timeout,
    ]);
    if (result === 'timeout') controller.abort();
    return { outcome: result };
  } catch (error) {
    return { outcome: 'failed', error };
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz`, `/readyz` and `/metrics`, plus the request-duration hook. */
export function installObservability(
  app: FastifyInstance,
  options: {
    readinessChecks: Readonly<Record<string, ReadinessCheck>>;
    readinessTimeoutMs: number;
  },
): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in paths would explode the label cardinality.
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    // Checked before the dependencies: a leaving instance is out of rotation whatever they say.
    if (isDraining(app)) {
      return sendProblem(reply, problem(503, 'SHUTTING_DOWN', 'Shutting down.'));
    }
    const entries = Object.entries(options.readinessChecks);
    const outcomes = await Promise.all(
      entries.map(async ([name, check]) => {
        const { outcome, error } = await runCheck(check, options.readinessTimeoutMs);
        if (outcome !== 'ok') request.log.warn({ check: name, outcome, err: error }, 'not ready');
        return [name, outcome] as const;
      }),
    );
    const checks = Object.fromEntries(outcomes);
    const failed = outcomes.filter(([, outcome]) => outcome !== 'ok').map(([name]) => name);
    if (failed.length > 0) {
      return sendProblem(
        reply,
        problem(503, 'NOT_READY', `Not ready: ${failed.join(', ')}.`, { checks, failed }),
      );
    }
    return { status: 'ready', checks };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(metricsRegistry.contentType);
    return metricsRegistry.metrics();
  });
}
