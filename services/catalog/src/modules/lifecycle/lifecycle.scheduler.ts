import { startRepeatingJob } from '@happening/service-kit';
import type { Logger } from 'pino';
import type { CatalogDb } from '../../database.ts';
import { runLifecycle } from './lifecycle.job.ts';

export interface LifecycleSchedulerOptions {
  db: CatalogDb;
  clock: () => Date;
  intervalMs: number;
  logger: Logger;
  /** Called after a run that moved events (wakes the outbox relay). */
  onTransitions?: (count: number) => void;
}

export interface LifecycleScheduler {
  /** Runs the job now (also what each tick does); concurrent calls share one run. */
  runNow(): Promise<number>;
  /** Waits for a run in progress, then stops ticking. */
  stop(): Promise<void>;
}

/** Runs the lifecycle job every `intervalMs`; a failed run is logged and retried next tick. */
export function startLifecycleScheduler(options: LifecycleSchedulerOptions): LifecycleScheduler {
  return startRepeatingJob({
    intervalMs: options.intervalMs,
    run: async () => {
      const count = await runLifecycle(options.db, options.clock());
      if (count > 0) {
        options.logger.info({ transitions: count }, 'event lifecycle moved on');
        options.onTransitions?.(count);
      }
      return count;
    },
    onError: (err) => options.logger.error({ err }, 'event lifecycle run failed'),
  });
}
