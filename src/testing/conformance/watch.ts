/**
 * Conformance part "watch": the optional `Store.watch` signals of webhook updates and deletes.
 *
 * @module
 */
import { describe, expect } from 'vitest';
import type { StoreSignal } from '../../stores/types.js';
import { type ConformanceContext, optedOut, optionalCase } from './context.js';
import { T0, T1, webhookFields } from './fixtures.js';

/**
 * Registers the `watch` cases, by `capabilities.watch` (see `StoreConformanceCapabilities`).
 *
 * @example
 * ```ts
 * watchCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function watchCases(ctx: ConformanceContext): void {
  if (optedOut(ctx, 'watch')) return; // the capabilities block says so
  describe('watch (optional)', () => {
    optionalCase(
      ctx,
      'watch',
      'tells its watchers of every webhook update and delete before the write resolves (when it has watch)',
      // optional: without it, workers read a parked claim's webhook again before sending
      async (store) => {
        const signals: StoreSignal[] = [];
        const stop = await store.watch((signal) => {
          if (signal.type === 'webhook') signals.push(signal);
        });
        try {
          const hook = await store.insertWebhook({ scope: 'acme', fields: webhookFields(), now: T0 });
          // Each write's own signal is there when it resolves (other processes' come later).
          const signalsOf = async (write: () => Promise<unknown>) => {
            const from = signals.length;
            await write();
            return signals.slice(from);
          };
          expect(
            await signalsOf(() =>
              store.updateWebhook({ scope: 'acme', id: hook.id, changes: { enabled: false }, now: T1 }),
            ),
          ).toContainEqual({ type: 'webhook', scope: 'acme', webhookId: hook.id, enabled: false });
          expect(
            await signalsOf(() =>
              store.updateWebhook({ scope: 'acme', id: hook.id, changes: { comment: 'x' }, now: T1 }),
            ),
          ).toContainEqual({ type: 'webhook', scope: 'acme', webhookId: hook.id, enabled: false });
          expect(
            await signalsOf(() =>
              store.updateWebhook({ scope: 'acme', id: hook.id, changes: { enabled: true }, now: T1 }),
            ),
          ).toContainEqual({ type: 'webhook', scope: 'acme', webhookId: hook.id, enabled: true });
          expect(await signalsOf(() => store.deleteWebhook({ scope: 'acme', id: hook.id }))).toContainEqual({
            type: 'webhook',
            scope: 'acme',
            webhookId: hook.id,
            enabled: null,
          });
        } finally {
          await stop();
        }
      },
    );
  });
}
