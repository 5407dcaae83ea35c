/**
 * The store conformance suite, one part per concern:
 *
 * - `webhooks.ts`: webhook CRUD, keys, scopes, copies, paging, `webhooksVersion`;
 * - `outbox.ts`: enqueue, idempotency, delivery lists, redeliver, cancelPending, purge, summary;
 * - `enqueue-many.ts`: the optional `enqueueMany` (several notifications in one atomic step);
 * - `leases.ts`: claimDue and its leases; lease-token checks of recordAttempts, cancelClaimed, releaseClaim;
 * - `attempts.ts`: recordAttempts moving deliveries, batches, canceled deliveries;
 * - `health.ts`: the webhook health kept by recordAttempts;
 * - `concurrency.ts`: racing inserts, concurrent claims, concurrent batches;
 * - `watch.ts` and `close.ts`: the optional `watch` and `close`;
 * - `stats.ts`: the optional `outboxStats` (pending, due, in flight, oldest due, failing webhooks);
 * - `secrets.ts`: the optional `scanWebhooks` and `replaceWebhookSecrets` (what `rotateSecrets` needs);
 * - `recover.ts`: the optional `recoverDeliveries` and `cancelDelivery` (bulk recovery, stopping retries);
 * - `log.ts`: the optional `searchDeliveries` and `webhookActivity` (the delivery log: filtered pages, per-webhook activity);
 * - `ordering.ts`: ordered lines (heads only, one live claim per line, head-of-line blocking, pause, redeliver to the back) and the optional `deliveryLine`;
 * - `fixtures.ts`: the data the cases build on; `context.ts`: options, capabilities, `withStore`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { attemptCases } from './attempts.js';
import { closeCases } from './close.js';
import { concurrencyCases } from './concurrency.js';
import {
  CAPABILITIES,
  type ConformanceContext,
  conformanceContext,
  expectCapability,
  type StoreConformanceOptions,
} from './context.js';
import { enqueueManyCases } from './enqueue-many.js';
import { healthCases } from './health.js';
import { leaseCases } from './leases.js';
import { logCases } from './log.js';
import { orderingCases } from './ordering.js';
import { outboxCases } from './outbox.js';
import { recoverCases } from './recover.js';
import { secretCases } from './secrets.js';
import { statsCases } from './stats.js';
import { watchCases } from './watch.js';
import { webhookCases } from './webhooks.js';

export type { StoreConformanceCapabilities, StoreConformanceOptions } from './context.js';
export { newDelivery, webhookFields } from './fixtures.js';

/**
 * The store conformance suite: every promise of the `Store` contract as vitest tests, in one
 * `describe` block per concern (webhooks, outbox, leases, attempts, health, concurrency, and the
 * optional watch, close and outboxStats). Memory, PostgreSQL and PGlite stores run it; so can your own
 * adapter. Call it at the top level of a vitest test file (or inside a `describe`); it
 * registers the tests synchronously. Each test gets a fresh store from `createStore` and hands
 * it to `destroyStore` (default: `store.close?.()`) afterwards. Optional methods are detected
 * from the store object unless `capabilities` declares them (see `StoreConformanceCapabilities`).
 *
 * @example
 * ```ts
 * // my-store.test.ts
 * import { storeConformance } from 'hookline/testing/conformance';
 * storeConformance({
 *   name: 'mysql',
 *   createStore: () => mysqlStore({ pool }),
 *   capabilities: { watch: false, webhooksVersion: true, close: true },
 * });
 * ```
 */
export function storeConformance(options: StoreConformanceOptions): void {
  const ctx = conformanceContext(options);
  describe(`store conformance: ${options.name}`, () => {
    capabilityCases(ctx);
    webhookCases(ctx);
    outboxCases(ctx);
    enqueueManyCases(ctx);
    leaseCases(ctx);
    attemptCases(ctx);
    healthCases(ctx);
    concurrencyCases(ctx);
    watchCases(ctx);
    closeCases(ctx);
    statsCases(ctx);
    secretCases(ctx);
    recoverCases(ctx);
    logCases(ctx);
    orderingCases(ctx);
  });
}

/**
 * One case per capability the adapter declared: that the store has the method (`true`), or
 * that it indeed lacks it (`false`), so the report shows what it opted out of. Nothing when no
 * capability is declared.
 */
function capabilityCases(ctx: ConformanceContext): void {
  const declared = CAPABILITIES.flatMap((capability) => {
    const value = ctx.options.capabilities?.[capability];
    return value === undefined ? [] : [{ capability, value }];
  });
  if (declared.length === 0) return;
  describe('capabilities', () => {
    for (const { capability, value } of declared) {
      if (value) {
        it(
          `declares ${capability}: store.${capability} is a function`,
          ctx.withStore(async (store) => expectCapability(store, capability)),
        );
      } else {
        it(
          `opted out of ${capability}: store.${capability} is undefined`,
          ctx.withStore(async (store) => {
            expect(
              store[capability],
              `capabilities.${capability} is false, so store.${capability} must be undefined`,
            ).toBeUndefined();
          }),
        );
      }
    }
  });
}
