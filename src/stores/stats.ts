/**
 * What the stores share to build {@link OutboxStats}: a running total of the counters, the
 * order of failing webhooks, and the scopes' order. Internal (not exported from `hookline`).
 *
 * @module
 */
import type { FailingWebhook, OutboxCounts, OutboxStats, ScopeOutboxStats } from './types.js';

/**
 * Outbox counters being summed, the oldest due time as epoch ms (`Infinity` for none).
 *
 * @example
 * ```ts
 * const total = new CountsTotal();
 * for (const s of scopes) total.add(s);
 * const counts = total.counts(); // { pending, due, inFlight, oldestDueAt, failingWebhookCount }
 * ```
 */
export class CountsTotal {
  pending = 0;
  due = 0;
  inFlight = 0;
  oldestDueMs = Number.POSITIVE_INFINITY;
  failingWebhookCount = 0;

  /** Adds the counters of a part (a scope) to the total. */
  add(part: OutboxCounts): void {
    this.pending += part.pending;
    this.due += part.due;
    this.inFlight += part.inFlight;
    if (part.oldestDueAt !== null) this.oldestDueMs = Math.min(this.oldestDueMs, part.oldestDueAt.getTime());
    this.failingWebhookCount += part.failingWebhookCount;
  }

  /** The counters as {@link OutboxCounts}, with a Date of their own. */
  counts(): OutboxCounts {
    return {
      pending: this.pending,
      due: this.due,
      inFlight: this.inFlight,
      oldestDueAt: this.oldestDueMs === Number.POSITIVE_INFINITY ? null : new Date(this.oldestDueMs),
      failingWebhookCount: this.failingWebhookCount,
    };
  }
}

/**
 * The order of {@link OutboxStats.failingWebhooks}: failing longest first, then by id.
 *
 * @example
 * ```ts
 * failing.sort(byFailingSince);
 * ```
 */
export function byFailingSince(a: FailingWebhook, b: FailingWebhook): number {
  return a.failingSince.getTime() - b.failingSince.getTime() || a.webhookId - b.webhookId;
}

/**
 * The order of {@link OutboxStats.scopes}: by scope name, binary (as PostgreSQL's `COLLATE "C"`).
 *
 * @example
 * ```ts
 * scopes.sort(byScope);
 * ```
 */
export function byScope(a: ScopeOutboxStats, b: ScopeOutboxStats): number {
  return a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0;
}
