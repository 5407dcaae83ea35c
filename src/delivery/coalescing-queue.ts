/**
 * The coalescing queue behind the claim and record batchers: requests that arrive in the same
 * turn (or within `delayMs` of the first, for the record batcher), or while a batch is in
 * flight, are run together as one batch (one store statement instead of one per worker loop).
 * One batch runs at a time.
 *
 * @module
 */

/**
 * Options of {@link CoalescingQueue}.
 *
 * @example
 * ```ts
 * const options: CoalescingQueueOptions<number, string> = {
 *   run: async (batch) => batch.map(String),
 *   maxWeight: 128,
 * };
 * ```
 */
export interface CoalescingQueueOptions<I, O> {
  /**
   * Runs one batch (a fresh array, the callee's to keep); result `i` goes to the caller of `batch[i]` (a missing or `undefined` result
   * rejects that caller with `missingResult()`). When it throws or rejects, every caller of the
   * batch is rejected with that error.
   */
  run(batch: I[]): Promise<readonly O[]>;
  /** Most total weight of one batch; the first request of a batch always fits. Default: no limit. */
  maxWeight?: number;
  /** The weight of one request. Default: 1 (so `maxWeight` counts requests). */
  weight?: (item: I) => number;
  /**
   * Whether `item` may join a batch that `first` (the oldest waiting request) leads. Requests
   * left out keep their place for a later batch. Default: any two may share a batch.
   */
  compatible?: (first: I, item: I) => boolean;
  /** The error for a caller whose batch result is missing (`run` returned too few). Default: an `Error`. */
  missingResult?: () => unknown;
  /**
   * How long a request that finds the queue idle (no batch running, none waiting) waits for
   * others before its batch runs, so a trickle of requests still shares batches. As many
   * waiting requests as `maxWeight` (counted as requests, whatever `weight` says), or an urgent
   * request (`add(item, { urgent: true })`), end the wait at once; what arrives while a batch
   * runs goes into the next one without waiting. Default 0: the next turn (`setImmediate`).
   */
  delayMs?: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects requests and runs them in batches: the first request schedules a flush on the next
 * turn (`setImmediate`), or after `delayMs`, so requests made meanwhile share a batch; while a
 * batch runs, new requests wait and go into the next one. Each caller gets its own result, in
 * order.
 *
 * @example
 * ```ts
 * const writes = new CoalescingQueue<Row, number>({
 *   run: (rows) => db.insertMany(rows), // one id per row
 *   maxWeight: 128,
 * });
 * const [a, b] = await Promise.all([writes.add(rowA), writes.add(rowB)]); // one insertMany call
 * ```
 */
export class CoalescingQueue<I, O> {
  readonly #options: CoalescingQueueOptions<I, O>;
  #running = false;
  /** The running flush loop, until it ends. */
  #flushing: Promise<void> | undefined;
  #queue: Pending<I, O>[] = [];
  /** The `delayMs` timer while the first requests wait for more. */
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param options how a batch runs and which requests may share one; see {@link CoalescingQueueOptions}. */
  constructor(options: CoalescingQueueOptions<I, O>) {
    this.#options = options;
  }

  /**
   * Queues `item`; resolves with its result once its batch has run. `urgent`: its batch does
   * not wait out `delayMs` (default `false`).
   */
  add(item: I, options?: { urgent?: boolean }): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#running) return;
      const { delayMs = 0, maxWeight = Number.POSITIVE_INFINITY } = this.#options;
      const now = delayMs <= 0 || options?.urgent === true || this.#queue.length >= maxWeight;
      if (this.#queue.length === 1) {
        if (now) setImmediate(this.#flushNow);
        else this.#timer = setTimeout(this.#flushNow, delayMs);
      } else if (now && this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        setImmediate(this.#flushNow);
      }
    });
  }

  /**
   * Runs the requests waiting out `delayMs` now; resolves when the batches running or waiting
   * now have run (at once when there are none). Never rejects: each caller gets its own error.
   */
  flush(): Promise<void> {
    if (this.#timer !== undefined) this.#flushNow();
    return this.#flushing ?? Promise.resolve();
  }

  readonly #flushNow = (): void => {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#running) return;
    // #flush settles each caller itself; what could escape it is nobody's to handle here.
    const flushing = this.#flush().catch(() => undefined);
    this.#flushing = flushing;
    void flushing.then(() => {
      if (this.#flushing === flushing) this.#flushing = undefined;
    });
  };

  /** Takes the oldest request and the later ones that may join it, within `maxWeight`. */
  #nextBatch(): Pending<I, O>[] {
    const first = this.#queue[0];
    if (first === undefined) return [];
    const { maxWeight = Number.POSITIVE_INFINITY, weight, compatible } = this.#options;
    // Every request fits and weighs 1: the batch is a prefix.
    if (weight === undefined && compatible === undefined) return this.#queue.splice(0, maxWeight);
    const batch: Pending<I, O>[] = [];
    let total = 0;
    this.#queue = this.#queue.filter((request) => {
      if (compatible !== undefined && !compatible(first.item, request.item)) return true;
      const w = weight === undefined ? 1 : weight(request.item);
      if (batch.length > 0 && total + w > maxWeight) return true;
      batch.push(request);
      total += w;
      return false;
    });
    return batch;
  }

  /** The flush loop; started only by #flushNow, which checks #running. */
  async #flush(): Promise<void> {
    this.#running = true;
    try {
      for (let batch = this.#nextBatch(); batch.length > 0; batch = this.#nextBatch()) {
        try {
          const results = await this.#options.run(batch.map((p) => p.item));
          for (const [i, p] of batch.entries()) {
            const result = results[i];
            if (result !== undefined) p.resolve(result);
            else
              p.reject(this.#options.missingResult?.() ?? new Error('The batch returned too few results.'));
          }
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
