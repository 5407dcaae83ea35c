import { HooklineError } from '../errors.js';
import type { RecordAttemptInput, RecordAttemptResult, Store } from '../stores/types.js';
import { perStore } from './per-store.js';

/** Most attempts written by one `recordAttempts` call. */
const MAX_BATCH = 128;

/**
 * Writes attempts in batches: one `recordAttempts` call at a time per store, and what finishes
 * meanwhile waits for the next call. Shared by every worker of one store in this process, so
 * several worker loops commit together instead of each on its own.
 */
class RecordBatcher {
  readonly #store: Store;
  #recording = false;
  #queue: {
    input: RecordAttemptInput;
    resolve: (result: RecordAttemptResult) => void;
    reject: (error: unknown) => void;
  }[] = [];

  constructor(store: Store) {
    this.#store = store;
  }

  record(input: RecordAttemptInput): Promise<RecordAttemptResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      if (!this.#recording && this.#queue.length === 1) setImmediate(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    if (this.#recording) return;
    this.#recording = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        try {
          const results = await this.#store.recordAttempts({ items: batch.map((b) => b.input) });
          for (const [i, b] of batch.entries()) {
            const result = results[i];
            if (result) b.resolve(result);
            else
              b.reject(new HooklineError('store_failed', 'The store returned fewer results than attempts.'));
          }
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.#recording = false;
    }
  }
}

/** The record batcher of a store in this process. */
export const recordBatcher = perStore((store) => new RecordBatcher(store));
