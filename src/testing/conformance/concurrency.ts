/**
 * Conformance part "concurrency": racing inserts of one key, concurrent claimers, and
 * concurrent batches of attempts of one webhook.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../errors.js';
import type { ConformanceContext } from './context.js';
import { at, attemptData, insertHook, newDelivery, recordOne, T0, T1, webhookFields } from './fixtures.js';

/**
 * Registers the `concurrency` cases: the promises that must hold when calls overlap.
 *
 * @example
 * ```ts
 * concurrencyCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function concurrencyCases(ctx: ConformanceContext): void {
  describe('concurrency', () => {
    it(
      'lets exactly one of many racing inserts with the same key win',
      ctx.withStore(async (store) => {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () =>
            store.insertWebhook({ scope: 'race', fields: webhookFields({ key: 'same' }), now: T0 }),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        for (const r of lost) expect(r.reason).toBeInstanceOf(ConflictError);
        expect((await store.listWebhooks({ scope: 'race', offset: 0, limit: null })).count).toBe(1);
      }),
    );

    it(
      'never hands one delivery to two concurrent claimers while the lease lives',
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const batch = Array.from({ length: 60 }, () => newDelivery(webhookId));
        await store.enqueue({ scope: 'acme', notificationId: 'many', deliveries: batch, now: T0 });
        const claims = await Promise.all(
          Array.from({ length: 8 }, () => store.claimDue({ limit: 10, leaseMs: 60_000, now: T1 })),
        );
        const ids = claims.flat().map((d) => d.id);
        expect(new Set(ids).size).toBe(ids.length);
        const rest = await store.claimDue({ limit: 100, leaseMs: 60_000, now: T1 });
        const all = [...ids, ...rest.map((d) => d.id)];
        expect(new Set(all).size).toBe(60);
        expect(all).toHaveLength(60);
      }),
    );

    it(
      'loses no health update when concurrent batches fail deliveries of one webhook',
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const batch = Array.from({ length: 12 }, () => newDelivery(webhookId));
        await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: batch, now: at(0) });
        const claims = await store.claimDue({ limit: 12, leaseMs: 60_000, now: at(0) });
        const item = (c: (typeof claims)[number]) => ({
          deliveryId: c.id,
          leaseToken: c.leaseToken,
          attempt: attemptData(at(0), { ok: false, status: 500, error: 'HTTP 500' }),
          outcome: { state: 'failed' as const },
          now: at(1),
        });
        await Promise.all([
          store.recordAttempts({ items: claims.slice(0, 4).map(item) }),
          store.recordAttempts({ items: claims.slice(4, 8).map(item) }),
          ...claims.slice(8).map((c) => recordOne(store, item(c))),
        ]);
        const webhook = await store.getWebhook({ scope: 'acme', id: webhookId });
        expect(webhook).toMatchObject({ consecutiveFailures: 12, failingSince: at(0) });
      }),
    );
  });
}
