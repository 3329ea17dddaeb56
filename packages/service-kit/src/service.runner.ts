import { setTimeout as sleep } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import type { App } from './app.factory.ts';
import { startDraining } from './shutdown-drain.ts';

/** Releases one resource at shutdown (stop consumers, the outbox relay, close pools, ...). */
export type CloseHook = () => unknown;

/**
 * Milliseconds a service has after its drain to finish its requests and close its connections
 * before it exits anyway (unless it passes a longer `graceMs`); the Helm chart's shutdown budget
 * counts on it.
 */
export const CLOSE_GRACE_MS = 10_000;

/**
 * Most milliseconds of the grace kept for the `onClose` hooks (a quarter of it at most): requests
 * still open that much before the process would be killed have their connections closed, so that
 * the close finishes and the hooks (consumers, relay, broker, pools) still run.
 */
const CLOSE_HOOKS_RESERVE_MS = 3_000;

export interface RunServiceOptions {
  app: App;
  port: number;
  host: string;
  /**
   * Milliseconds between the start of the shutdown and closing the listener, during which
   * `/readyz` answers 503 and every request is still served, so that load balancers stop sending
   * traffic before connections are refused (default 0; services pass `SHUTDOWN_DRAIN_MS`).
   */
  drainMs?: number;
  /**
   * Run in order as soon as shutdown starts, alongside the drain, and awaited before the listener
   * closes: stop taking work no request brings (stop consumers taking deliveries), so that it
   * does not keep arriving at a process that is leaving.
   */
  onDrain?: readonly CloseHook[];
  /**
   * Run in order after the HTTP server has drained; one that fails is logged and the others still
   * run, and the shutdown then fails (SIGTERM exits 1, `stop()` rejects).
   */
  onClose?: readonly CloseHook[];
  /**
   * Milliseconds the whole shutdown (drain included) may take before the process is killed
   * (default `drainMs` + `CLOSE_GRACE_MS`; longer for a service whose in-flight work can take
   * longer, e.g. a send to a slow provider).
   */
  graceMs?: number;
}

export interface RunningService {
  /** The address the server listens on, e.g. http://127.0.0.1:3000. */
  readonly address: string;
  /** Shuts down like SIGTERM does, without exiting the process. */
  stop(): Promise<void>;
}

/**
 * `app.close()`, which stops accepting and waits for the requests in flight; those still open at
 * `deadline` (a time in ms) have their connections closed, so that the close ends.
 */
async function closeBy(app: App, deadline: number): Promise<void> {
  const forceClose = setTimeout(
    () => {
      app.log.warn('requests still open at the close deadline: closing their connections');
      app.server.closeAllConnections();
    },
    Math.max(0, deadline - Date.now()),
  );
  try {
    await app.close();
  } finally {
    clearTimeout(forceClose);
  }
}

/**
 * Listens, and on SIGTERM/SIGINT runs `onDrain` and fails `/readyz` for `drainMs` while still
 * serving, then stops accepting, drains in-flight requests and runs `onClose`. Requests still open
 * shortly before `graceMs` is up have their connections closed, so that `onClose` still runs.
 */
export async function runService(options: RunServiceOptions): Promise<RunningService> {
  const { app } = options;
  const drainMs = options.drainMs ?? 0;
  const graceMs = options.graceMs ?? drainMs + CLOSE_GRACE_MS;
  const hooksReserveMs = Math.min(CLOSE_HOOKS_RESERVE_MS, graceMs / 4);
  let shutdown: Promise<void> | undefined;
  const stopOnce = (drain: boolean) => {
    shutdown ??= (async () => {
      const closeDeadline = Date.now() + graceMs - hooksReserveMs;
      // Synchronously, before anything awaits: a probe arriving right after the signal fails.
      startDraining(app);
      // A hook that fails is logged and the shutdown goes on: in-flight work still gets its
      // drain and close, rather than the process exiting on the error.
      const stopTaking = (async () => {
        for (const hook of options.onDrain ?? []) {
          try {
            await hook();
          } catch (err) {
            app.log.error({ err }, 'a drain hook failed; the shutdown goes on');
          }
        }
      })();
      // After an uncaught error the process is in an unknown state: stop serving at once.
      if (drain && drainMs > 0) {
        app.log.info({ drainMs }, 'draining: /readyz answers 503, requests are still served');
        await Promise.all([stopTaking, sleep(drainMs)]);
      } else await stopTaking;
      // app.close() stops accepting connections and resolves once in-flight requests finished,
      // or their connections were closed at the deadline (a client stalling its request).
      await closeBy(app, closeDeadline);
      // Each resource is released even when another fails to be; the shutdown then fails.
      const failures: unknown[] = [];
      for (const hook of options.onClose ?? []) {
        try {
          await hook();
        } catch (err) {
          app.log.error({ err }, 'a close hook failed; the shutdown goes on');
          failures.push(err);
        }
      }
      if (failures.length > 0) {
        throw new AggregateError(failures, `${failures.length} close hook(s) failed`);
      }
      app.log.info('shutdown complete');
    })();
    return shutdown;
  };

  const grace = closeWithGrace({ delay: graceMs, logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'fatal error, shutting down');
    else app.log.info({ signal }, 'shutting down');
    await stopOnce(!err);
  });

  try {
    const address = await app.listen({ port: options.port, host: options.host });
    return {
      address,
      stop: async () => {
        grace.uninstall();
        await stopOnce(true);
      },
    };
  } catch (error) {
    grace.uninstall();
    throw error;
  }
}
