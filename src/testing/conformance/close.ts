/**
 * Conformance part "close": the optional `Store.close`.
 *
 * @module
 */
import { describe } from 'vitest';
import { type ConformanceContext, optedOut, optionalCase } from './context.js';

/**
 * Registers the `close` cases, by `capabilities.close` (see `StoreConformanceCapabilities`).
 * Every other case closes its store too, through `destroyStore` (default `store.close?.()`).
 *
 * @example
 * ```ts
 * closeCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function closeCases(ctx: ConformanceContext): void {
  if (optedOut(ctx, 'close')) return; // the capabilities block says so
  describe('close (optional)', () => {
    optionalCase(ctx, 'close', 'can be closed twice (when it has close)', async (store) => {
      await store.close();
      await store.close();
    });
  });
}
