import type { ClaimedDelivery, Store } from '../stores/types.js';
import { perStore } from './per-store.js';

/** Most deliveries asked for in one `claimDue` call. */
const MAX_CLAIM = 512;

interface ClaimRequest {
  limit: number;
  leaseMs: number;
  now: Date;
  /** Requests are merged only within one group (the worker's clock). */
  group: object;
  resolve: (claims: ClaimedDelivery[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Claims for several workers at once: one `claimDue` call at a time per store, and the requests
 * that arrive meanwhile (with the same lease and clock) are merged into the next call, whose
 * deliveries are shared out in due order. Shared by every worker of one store in this process,
 * so several worker loops cost one claim statement instead of one each.
 */
class ClaimBatcher {
  readonly #store: Store;
  #claiming = false;
  #queue: ClaimRequest[] = [];

  constructor(store: Store) {
    this.#store = store;
  }

  claim(request: { limit: number; leaseMs: number; now: Date; group: object }): Promise<ClaimedDelivery[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...request, resolve, reject });
      if (!this.#claiming && this.#queue.length === 1) setImmediate(() => void this.#flush());
    });
  }

  /** Takes the first request and the later ones it can be merged with, up to MAX_CLAIM deliveries. */
  #nextBatch(): ClaimRequest[] {
    const first = this.#queue[0];
    if (!first) return [];
    const batch: ClaimRequest[] = [];
    let total = 0;
    this.#queue = this.#queue.filter((request) => {
      const fits =
        request.group === first.group &&
        request.leaseMs === first.leaseMs &&
        (batch.length === 0 || total + request.limit <= MAX_CLAIM);
      if (!fits) return true;
      batch.push(request);
      total += request.limit;
      return false;
    });
    return batch;
  }

  async #flush(): Promise<void> {
    if (this.#claiming) return;
    this.#claiming = true;
    try {
      for (let batch = this.#nextBatch(); batch.length > 0; batch = this.#nextBatch()) {
        const first = batch[0] as ClaimRequest;
        let limit = 0;
        let now = first.now;
        for (const request of batch) {
          limit += request.limit;
          if (request.now > now) now = request.now;
        }
        try {
          const claims = await this.#store.claimDue({ limit, leaseMs: first.leaseMs, now });
          let taken = 0;
          for (const request of batch) {
            request.resolve(claims.slice(taken, taken + request.limit));
            taken += request.limit;
          }
        } catch (error) {
          for (const request of batch) request.reject(error);
        }
      }
    } finally {
      this.#claiming = false;
    }
  }
}

/** The claim batcher of a store in this process. */
export const claimBatcher = perStore((store) => new ClaimBatcher(store));
