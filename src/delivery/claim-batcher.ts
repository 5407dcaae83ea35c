import type { ClaimedDelivery, Store } from '../stores/types.js';
import { CoalescingQueue } from './coalescing-queue.js';
import { perStore } from './per-store.js';

/** Most deliveries asked for in one `claimDue` call. */
const MAX_CLAIM = 512;

interface ClaimRequest {
  limit: number;
  leaseMs: number;
  now: Date;
  /** Requests are merged only within one group (the worker's clock). */
  group: object;
}

/**
 * Claims for several workers at once: one `claimDue` call at a time per store, and the requests
 * that arrive meanwhile (with the same lease and clock) are merged into the next call, up to
 * 512 deliveries, whose deliveries are shared out in due order. Shared by every worker of one
 * store in this process, so several worker loops cost one claim statement instead of one each.
 * Benchmark: bench/pipeline.
 */
class ClaimBatcher {
  readonly #queue: CoalescingQueue<ClaimRequest, ClaimedDelivery[]>;

  constructor(store: Store) {
    this.#queue = new CoalescingQueue({
      maxWeight: MAX_CLAIM,
      weight: (request) => request.limit,
      compatible: (first, request) => request.group === first.group && request.leaseMs === first.leaseMs,
      run: async (batch) => {
        const first = batch[0] as ClaimRequest;
        let limit = 0;
        let now = first.now;
        for (const request of batch) {
          limit += request.limit;
          if (request.now > now) now = request.now;
        }
        const claims = await store.claimDue({ limit, leaseMs: first.leaseMs, now });
        let taken = 0;
        return batch.map((request) => {
          const share = claims.slice(taken, taken + request.limit);
          taken += request.limit;
          return share;
        });
      },
    });
  }

  claim(request: { limit: number; leaseMs: number; now: Date; group: object }): Promise<ClaimedDelivery[]> {
    return this.#queue.add(request);
  }
}

/** The claim batcher of a store in this process. */
export const claimBatcher = perStore((store) => new ClaimBatcher(store));
