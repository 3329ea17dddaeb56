export interface BatcherOptions {
  /** Most items one batch takes. */
  maxSize: number;
  /** Most batches running at once; items submitted while all run wait for the next free one. */
  maxInFlight: number;
  /** Called when the last running batch finished and nothing waits. */
  onIdle?: () => void;
}

/**
 * Groups concurrent submissions into batches, in submission order. A submission starts a batch
 * on the next turn of the event loop when a slot is free; while every slot is busy, submissions
 * queue and the next free slot takes up to `maxSize` of them. So a lone request runs alone, at
 * once, and a crowd shares work (one transaction for many) without a timer adding latency.
 */
export class Batcher<I, O> {
  private readonly queue: { item: I; resolve: (out: O) => void; reject: (e: unknown) => void }[] =
    [];
  private running = 0;
  private scheduled = false;

  constructor(
    /**
     * Runs one batch; answers one outcome per item, in the items' order: a fulfilled outcome
     * resolves that item's submission, a rejected one rejects it. When `run` itself throws,
     * every submission of the batch rejects with that error.
     */
    private readonly run: (items: I[]) => Promise<PromiseSettledResult<O>[]>,
    private readonly options: BatcherOptions,
  ) {
    if (options.maxSize < 1 || options.maxInFlight < 1) {
      throw new Error('a batcher needs maxSize ≥ 1 and maxInFlight ≥ 1');
    }
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Lets the submissions of this turn join the same batch.
        setImmediate(() => {
          this.scheduled = false;
          this.drain();
        });
      }
    });
  }

  /** A batch runs or items wait. */
  get busy(): boolean {
    return this.running > 0 || this.queue.length > 0;
  }

  private drain(): void {
    while (this.running < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxSize);
      this.running += 1;
      this.run(batch.map((entry) => entry.item))
        .then((outcomes) => {
          if (outcomes.length !== batch.length) {
            throw new Error(`a batch of ${batch.length} answered ${outcomes.length} outcomes`);
          }
          batch.forEach((entry, i) => {
            const outcome = outcomes[i] as PromiseSettledResult<O>;
            if (outcome.status === 'fulfilled') entry.resolve(outcome.value);
            else entry.reject(outcome.reason);
          });
        })
        .catch((error: unknown) => {
          for (const entry of batch) entry.reject(error);
        })
        .finally(() => {
          this.running -= 1;
          this.drain();
          if (this.running === 0 && this.queue.length === 0) this.options.onIdle?.();
        });
    }
  }
}

export interface KeyedBatcherOptions extends Omit<BatcherOptions, 'onIdle'> {
  /** Most batches running at once over all keys; a batch past it waits for one to finish. */
  maxRunning: number;
}

/**
 * One `Batcher` per key (an event, say), made on first use and dropped once idle: items of one key
 * are batched together, one key's slow batch never holds up another key's, and `maxRunning` caps
 * the batches of all keys together (each may hold a pooled connection).
 */
export class KeyedBatcher<I, O> {
  private readonly batchers = new Map<string, Batcher<I, O>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly keyOf: (item: I) => string,
    private readonly run: (items: I[]) => Promise<PromiseSettledResult<O>[]>,
    private readonly options: KeyedBatcherOptions,
  ) {
    if (options.maxRunning < 1) throw new Error('a keyed batcher needs maxRunning ≥ 1');
  }

  submit(item: I): Promise<O> {
    const key = this.keyOf(item);
    let batcher = this.batchers.get(key);
    if (!batcher) {
      const created: Batcher<I, O> = new Batcher((items) => this.runLimited(items), {
        maxSize: this.options.maxSize,
        maxInFlight: this.options.maxInFlight,
        onIdle: () => {
          if (this.batchers.get(key) === created) this.batchers.delete(key);
        },
      });
      batcher = created;
      this.batchers.set(key, batcher);
    }
    return batcher.submit(item);
  }

  /** Keys with a batch running or waiting. */
  get activeKeys(): number {
    return this.batchers.size;
  }

  private async runLimited(items: I[]): Promise<PromiseSettledResult<O>[]> {
    // A finishing batch hands its place straight to the next waiting one.
    if (this.running < this.options.maxRunning) this.running += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await this.run(items);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
