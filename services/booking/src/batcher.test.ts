import { describe, expect, it } from 'vitest';
import { Batcher, KeyedBatcher } from './batcher.ts';

/** A batch runner that records its batches and finishes each when told to. */
function recordingRunner() {
  const batches: number[][] = [];
  const finish: (() => void)[] = [];
  let running = 0;
  let mostRunning = 0;
  const run = async (items: number[]): Promise<PromiseSettledResult<string>[]> => {
    batches.push(items);
    running += 1;
    mostRunning = Math.max(mostRunning, running);
    await new Promise<void>((resolve) => finish.push(resolve));
    running -= 1;
    return items.map((item) =>
      item < 0
        ? { status: 'rejected', reason: new Error(`bad ${item}`) }
        : { status: 'fulfilled', value: `done ${item}` },
    );
  };
  return { run, batches, finish, mostRunning: () => mostRunning };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('runs a lone submission at once, alone', async () => {
    const runner = recordingRunner();
    const batcher = new Batcher(runner.run, { maxSize: 10, maxInFlight: 2 });
    const answer = batcher.submit(1);
    await turn();
    expect(runner.batches).toEqual([[1]]);
    runner.finish.shift()?.();
    await expect(answer).resolves.toBe('done 1');
  });

  it('groups what arrives while every slot is busy, in order, up to maxSize', async () => {
    const runner = recordingRunner();
    const batcher = new Batcher(runner.run, { maxSize: 3, maxInFlight: 1 });
    const first = batcher.submit(0);
    await turn();
    const rest = [1, 2, 3, 4, 5].map((n) => batcher.submit(n));
    await turn();
    expect(runner.batches).toEqual([[0]]);
    runner.finish.shift()?.();
    await first;
    await turn();
    expect(runner.batches).toEqual([[0], [1, 2, 3]]);
    runner.finish.shift()?.();
    await turn();
    await turn();
    expect(runner.batches).toEqual([[0], [1, 2, 3], [4, 5]]);
    runner.finish.shift()?.();
    await expect(Promise.all(rest)).resolves.toEqual([
      'done 1',
      'done 2',
      'done 3',
      'done 4',
      'done 5',
    ]);
    expect(runner.mostRunning()).toBe(1);
  });

  it('is busy from the first submission until the last batch finished, then calls onIdle', async () => {
    const runner = recordingRunner();
    let idle = 0;
    const batcher = new Batcher(runner.run, {
      maxSize: 1,
      maxInFlight: 1,
      onIdle: () => {
        idle += 1;
      },
    });
    expect(batcher.busy).toBe(false);
    const answers = [batcher.submit(1), batcher.submit(2)];
    expect(batcher.busy).toBe(true);
    await turn();
    runner.finish.shift()?.();
    await answers[0];
    await turn();
    expect([batcher.busy, idle]).toEqual([true, 0]);
    runner.finish.shift()?.();
    await answers[1];
    await turn();
    expect([batcher.busy, idle]).toEqual([false, 1]);
  });

  it('runs up to maxInFlight batches at once', async () => {
    const runner = recordingRunner();
    const batcher = new Batcher(runner.run, { maxSize: 2, maxInFlight: 2 });
    const answers = [1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n));
    await turn();
    expect(runner.batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    while (runner.batches.length < 3 || runner.finish.length > 0) {
      runner.finish.shift()?.();
      await turn();
    }
    await expect(Promise.all(answers)).resolves.toHaveLength(6);
    expect(runner.batches).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(runner.mostRunning()).toBe(2);
  });

  it('rejects only the submissions whose outcome is rejected', async () => {
    const runner = recordingRunner();
    const batcher = new Batcher(runner.run, { maxSize: 5, maxInFlight: 1 });
    const good = batcher.submit(1);
    const bad = batcher.submit(-1);
    await turn();
    runner.finish.shift()?.();
    await expect(good).resolves.toBe('done 1');
    await expect(bad).rejects.toThrow('bad -1');
  });

  it('rejects every submission of a batch whose run throws, and keeps serving', async () => {
    let calls = 0;
    const batcher = new Batcher<number, number>(
      async (items) => {
        calls += 1;
        if (calls === 1) throw new Error('broken');
        return items.map((value) => ({ status: 'fulfilled', value }));
      },
      { maxSize: 5, maxInFlight: 1 },
    );
    const broken = [batcher.submit(1), batcher.submit(2)];
    await expect(broken[0]).rejects.toThrow('broken');
    await expect(broken[1]).rejects.toThrow('broken');
    await expect(batcher.submit(3)).resolves.toBe(3);
  });

  it('rejects a batch answered with the wrong number of outcomes', async () => {
    const batcher = new Batcher<number, number>(async () => [], { maxSize: 5, maxInFlight: 1 });
    await expect(batcher.submit(1)).rejects.toThrow('a batch of 1 answered 0 outcomes');
  });

  it('refuses empty limits', () => {
    const run = async () => [];
    expect(() => new Batcher(run, { maxSize: 0, maxInFlight: 1 })).toThrow();
    expect(() => new Batcher(run, { maxSize: 1, maxInFlight: 0 })).toThrow();
  });
});

describe('KeyedBatcher', () => {
  it('batches per key: a key whose batch is stuck holds up only its own items', async () => {
    const runner = recordingRunner();
    // Items are keyed by their tens: 11 and 12 share key 1, 21 has key 2.
    const batcher = new KeyedBatcher((item: number) => String(Math.floor(item / 10)), runner.run, {
      maxSize: 10,
      maxInFlight: 1,
      maxRunning: 10,
    });
    const first = batcher.submit(11);
    await turn();
    const queued = batcher.submit(12);
    const other = batcher.submit(21);
    await turn();
    // Key 1's batch still runs (12 waits for it); key 2 got a batch of its own at once.
    expect(runner.batches).toEqual([[11], [21]]);
    expect(batcher.activeKeys).toBe(2);
    runner.finish[1]?.();
    await expect(other).resolves.toBe('done 21');
    runner.finish[0]?.();
    await expect(first).resolves.toBe('done 11');
    await turn();
    expect(runner.batches).toEqual([[11], [21], [12]]);
    runner.finish[2]?.();
    await expect(queued).resolves.toBe('done 12');
    await turn();
    // Idle keys are dropped, and come back when used again.
    expect(batcher.activeKeys).toBe(0);
    const again = batcher.submit(13);
    await turn();
    expect(batcher.activeKeys).toBe(1);
    runner.finish[3]?.();
    await expect(again).resolves.toBe('done 13');
  });
});

describe('KeyedBatcher, all keys together', () => {
  it('runs at most maxRunning batches at once; the next starts when one finishes', async () => {
    const runner = recordingRunner();
    const batcher = new KeyedBatcher((item: number) => String(item), runner.run, {
      maxSize: 10,
      maxInFlight: 1,
      maxRunning: 2,
    });
    const answers = [1, 2, 3].map((item) => batcher.submit(item));
    await turn();
    expect(runner.batches).toEqual([[1], [2]]);
    runner.finish[0]?.();
    await expect(answers[0]).resolves.toBe('done 1');
    await turn();
    expect(runner.batches).toEqual([[1], [2], [3]]);
    expect(runner.mostRunning()).toBe(2);
    runner.finish[1]?.();
    runner.finish[2]?.();
    await expect(Promise.all(answers)).resolves.toEqual(['done 1', 'done 2', 'done 3']);
  });
});
