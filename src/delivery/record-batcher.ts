import { HooklineError } from '../errors.js';
import type { RecordAttemptInput, RecordAttemptResult, Store } from '../stores/types.js';
import { CoalescingQueue } from './coalescing-queue.js';
import { perStore } from './per-store.js';

/** Most attempts written by one `recordAttempts` call. */
const MAX_BATCH = 128;

/**
 * Writes attempts in batches: one `recordAttempts` call at a time per store, and what finishes
 * meanwhile waits for the next call (up to 128 attempts). Shared by every worker of one store in
 * this process, so several worker loops commit together instead of each on its own.
 * Benchmark: bench/pipeline. When idle, the first attempt waits the store's `recordDelayMs` for
 * others (bench/postgres, enqueue included: see docs/postgres.md, "Record delay").
 */
class RecordBatcher {
  readonly #queue: CoalescingQueue<RecordAttemptInput, RecordAttemptResult>;

  constructor(store: Store) {
    this.#queue = new CoalescingQueue({
      maxWeight: MAX_BATCH,
      delayMs: store.recordDelayMs ?? 0,
      run: (items) => store.recordAttempts({ items }),
      missingResult: () =>
        new HooklineError('store_failed', 'The store returned fewer results than attempts.'),
    });
  }

  /** Records `input` in the next batch; `urgent` (an ordered delivery's attempt) does not wait for others. */
  record(input: RecordAttemptInput, urgent: boolean): Promise<RecordAttemptResult> {
    return this.#queue.add(input, urgent ? { urgent } : undefined);
  }

  /** Writes the attempts waiting for others now (a worker stops); resolves once written. */
  flush(): Promise<void> {
    return this.#queue.flush();
  }
}

/** The record batcher of a store in this process. */
export const recordBatcher = perStore((store) => new RecordBatcher(store));
