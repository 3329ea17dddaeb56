/** A job run on a timer, never twice at once. */
export interface RepeatingJob<T> {
  /** Runs the job now, or joins the run in progress; once stopped, rejects. */
  runNow(): Promise<T>;
  /** Stops the timer, then waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `intervalMs` (and at once when `runAtStart`). A tick that finds a run still in
 * progress is skipped rather than queued, so a slow run cannot pile up work behind it; a failed
 * tick goes to `onError` and the next tick tries again. The timer does not keep the process alive.
 */
export function startRepeatingJob<T>(options: {
  intervalMs: number;
  run: () => Promise<T>;
  onError: (error: unknown) => void;
  runAtStart?: boolean;
}): RepeatingJob<T> {
  let running: Promise<T> | undefined;
  let stopped = false;
  const runNow = (): Promise<T> => {
    if (stopped) return Promise.reject(new Error('the job is stopped'));
    running ??= options.run().finally(() => {
      running = undefined;
    });
    return running;
  };
  const tick = () => {
    if (stopped || running) return;
    runNow().catch(options.onError);
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  if (options.runAtStart) tick();
  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
