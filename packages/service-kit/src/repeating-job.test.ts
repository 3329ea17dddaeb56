import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startRepeatingJob } from './repeating-job.ts';

/** A job whose runs each wait until released, counting starts and the most running at once. */
function gatedJob() {
  const releases: (() => void)[] = [];
  let starts = 0;
  let running = 0;
  let mostRunning = 0;
  const run = async () => {
    starts += 1;
    running += 1;
    mostRunning = Math.max(mostRunning, running);
    await new Promise<void>((resolve) => releases.push(resolve));
    running -= 1;
    return starts;
  };
  return {
    run,
    releaseAll: () => {
      for (const release of releases.splice(0)) release();
    },
    starts: () => starts,
    mostRunning: () => mostRunning,
  };
}

/** A gated job ticking every 10 ms, advanced until its first run has started (and is held). */
async function firstRunHeld() {
  const gated = gatedJob();
  const job = startRepeatingJob({ intervalMs: 10, run: gated.run, onError: () => undefined });
  await vi.advanceTimersByTimeAsync(10);
  expect(gated.starts()).toBe(1);
  return { gated, job };
}

describe('startRepeatingJob', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('skips ticks while a run is in progress instead of queueing them', async () => {
    const { gated, job } = await firstRunHeld();
    // ten more ticks while the first run is held
    await vi.advanceTimersByTimeAsync(100);
    expect(gated.starts()).toBe(1);
    gated.releaseAll();
    // nothing was queued behind it: the next run waits for the next tick
    await vi.advanceTimersByTimeAsync(0);
    expect(gated.starts()).toBe(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(gated.starts()).toBe(2);
    const stopping = job.stop();
    gated.releaseAll();
    await stopping;
    expect(gated.mostRunning()).toBe(1);
  });

  it('runNow joins the run in progress and answers its result', async () => {
    const gated = gatedJob();
    const job = startRepeatingJob({ intervalMs: 60_000, run: gated.run, onError: () => undefined });
    const first = job.runNow();
    const second = job.runNow();
    expect(second).toBe(first);
    gated.releaseAll();
    await expect(first).resolves.toBe(1);
    await job.stop();
    await expect(job.runNow()).rejects.toThrow('stopped');
    expect(gated.starts()).toBe(1);
  });

  it('runs at start when asked, hands failures to onError and keeps ticking', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const job = startRepeatingJob({
      intervalMs: 1_000,
      runAtStart: true,
      run: async () => {
        calls += 1;
        if (calls === 1) throw new Error('first run fails');
        return calls;
      },
      onError: (error) => errors.push(error),
    });
    // before any tick is due
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    expect(errors).toEqual([new Error('first run fails')]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(2);
    await job.stop();
    expect(errors).toHaveLength(1);
  });

  it('without runAtStart, waits for the first tick', async () => {
    let calls = 0;
    const job = startRepeatingJob({
      intervalMs: 1_000,
      run: async () => {
        calls += 1;
      },
      onError: () => undefined,
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(1);
    await job.stop();
  });

  it('stop waits for the run in progress, and no run starts after it', async () => {
    const { gated, job } = await firstRunHeld();
    let stopped = false;
    const stopping = job.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    gated.releaseAll();
    await stopping;
    await vi.advanceTimersByTimeAsync(100);
    expect(gated.starts()).toBe(1);
  });
});
