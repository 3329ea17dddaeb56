import closeWithGrace from 'close-with-grace';
import type { App } from './app.factory.ts';

/** Releases one resource at shutdown (stop consumers, the outbox relay, close pools, ...). */
export type CloseHook = () => unknown;

export interface RunServiceOptions {
  app: App;
  port: number;
  host: string;
  /** Run in order after the HTTP server has drained. */
  onClose?: readonly CloseHook[];
  /** Milliseconds the whole shutdown may take before the process is killed (default 10000). */
  graceMs?: number;
}

export interface RunningService {
  /** The address the server listens on, e.g. http://127.0.0.1:3000. */
  readonly address: string;
  /** Shuts down like SIGTERM does, without exiting the process. */
  stop(): Promise<void>;
}

/** Listens, and on SIGTERM/SIGINT stops accepting, drains in-flight requests, then runs `onClose`. */
export async function runService(options: RunServiceOptions): Promise<RunningService> {
  const { app } = options;
  let shutdown: Promise<void> | undefined;
  const stopOnce = () => {
    shutdown ??= (async () => {
      // app.close() stops accepting connections and resolves once in-flight requests finished.
      await app.close();
      for (const hook of options.onClose ?? []) await hook();
      app.log.info('shutdown complete');
    })();
    return shutdown;
  };

  const grace = closeWithGrace(
    { delay: options.graceMs ?? 10_000, logger: app.log },
    async ({ signal, err }) => {
      if (err) app.log.error({ err }, 'fatal error, shutting down');
      else app.log.info({ signal }, 'shutting down');
      await stopOnce();
    },
  );

  try {
    const address = await app.listen({ port: options.port, host: options.host });
    return {
      address,
      stop: async () => {
        grace.uninstall();
        await stopOnce();
      },
    };
  } catch (error) {
    grace.uninstall();
    throw error;
  }
}
