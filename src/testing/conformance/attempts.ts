/**
 * Conformance part "attempts": how `recordAttempts` stores attempts and moves deliveries, one
 * item or a batch, and that a canceled delivery never gains an attempt.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './context.js';
import { at, attemptData, enqueueOne, insertHook, newDelivery, recordOne } from './fixtures.js';

/**
 * Registers the `attempts` cases. They pin `deliveryAfterAttempt` (the delivery's fields after
 * an attempt) and `mayRecordAttempt` (a canceled delivery gains no attempt) of
 * `stores/rules.ts`; the webhook health is in the `health` part.
 *
 * @example
 * ```ts
 * attemptCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function attemptCases(ctx: ConformanceContext): void {
  describe('attempts (rules: deliveryAfterAttempt, mayRecordAttempt)', () => {
    it(
      'records attempts and moves the delivery: retry later, then succeed',
      ctx.withStore(async (store) => {
        const { webhookId, delivery: d } = await enqueueOne(store);
        const [claim] = await store.claimDue({ limit: 1, leaseMs: 30_000, now: at(0) });
        const failed = await recordOne(store, {
          deliveryId: d.id,
          leaseToken: claim!.leaseToken,
          attempt: attemptData(at(0), {
            status: 500,
            ok: false,
            error: 'HTTP 500',
            responseBody: 'boom',
          }),
          outcome: { state: 'pending', nextAttemptAt: at(5_000) },
          now: at(100),
        });
        expect(failed.applied).toBe(true);
        expect(failed.health?.failingSince?.toISOString()).toBe(at(0).toISOString());
        expect(failed.health?.consecutiveFailures).toBe(0);
        expect(await store.getDelivery({ scope: 'acme', id: d.id })).toMatchObject({
          state: 'pending',
          attemptCount: 1,
          lastStatus: 500,
          lastError: 'HTTP 500',
        });
        expect(await store.claimDue({ limit: 1, leaseMs: 30_000, now: at(4_999) })).toEqual([]);
        const [retry] = await store.claimDue({ limit: 1, leaseMs: 30_000, now: at(5_000) });
        expect(retry?.attemptCount).toBe(1);
        const ok = await recordOne(store, {
          deliveryId: d.id,
          leaseToken: retry!.leaseToken,
          attempt: attemptData(at(5_000)),
          outcome: { state: 'succeeded' },
          now: at(5_100),
        });
        expect(ok).toEqual({ applied: true, health: { failingSince: null, consecutiveFailures: 0 } });
        const after = await store.getDelivery({ scope: 'acme', id: d.id });
        expect(after).toMatchObject({
          state: 'succeeded',
          attemptCount: 2,
          lastStatus: 200,
          lastError: null,
        });
        expect(after?.nextAttemptAt).toBeNull();
        const log = await store.listAttempts({ scope: 'acme', deliveryId: d.id, offset: 0, limit: null });
        expect(log.count).toBe(2);
        expect(log.items.map((a) => [a.attemptNumber, a.retry, a.status, a.ok])).toEqual([
          [2, true, 200, true],
          [1, false, 500, false],
        ]);
        expect(log.items[1]).toMatchObject({
          deliveryId: d.id,
          scope: 'acme',
          webhookId,
          durationMs: 12,
          responseBody: 'boom',
          error: 'HTTP 500',
        });
        expect(log.items[0]!.id).toBeGreaterThan(log.items[1]!.id);
        expect(
          (await store.listAttempts({ scope: 'acme', deliveryId: d.id, offset: 1, limit: 5 })).items,
        ).toHaveLength(1);
        expect(
          await store.listAttempts({ scope: 'other', deliveryId: d.id, offset: 0, limit: null }),
        ).toEqual({
          count: 0,
          items: [],
        });
        expect(await store.claimDue({ limit: 1, leaseMs: 1, now: at(999_999) })).toEqual([]);
      }),
    );

    it(
      'records a batch of attempts like one call each, results in input order',
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const batch = [newDelivery(webhookId), newDelivery(webhookId), newDelivery(webhookId)];
        await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: batch, now: at(0) });
        const claims = await store.claimDue({ limit: 3, leaseMs: 60_000, now: at(0) });
        const token = (id: string) => claims.find((c) => c.id === id)!.leaseToken;
        const results = await store.recordAttempts({
          items: [
            {
              deliveryId: batch[2]!.id,
              leaseToken: token(batch[2]!.id),
              attempt: attemptData(at(0)),
              outcome: { state: 'succeeded' },
              now: at(1),
            },
            {
              deliveryId: batch[0]!.id,
              leaseToken: 'stale',
              attempt: attemptData(at(0), { ok: false, status: 500, error: 'HTTP 500' }),
              outcome: { state: 'failed' },
              now: at(1),
            },
            {
              deliveryId: batch[1]!.id,
              leaseToken: token(batch[1]!.id),
              attempt: attemptData(at(0), { ok: false, status: 503, error: 'HTTP 503' }),
              outcome: { state: 'pending', nextAttemptAt: at(5_000) },
              now: at(1),
            },
          ],
        });
        expect(results.map((r) => r.applied)).toEqual([true, false, true]);
        expect(results[2]!.health?.failingSince?.toISOString()).toBe(at(0).toISOString());
        expect((await store.getDelivery({ scope: 'acme', id: batch[2]!.id }))?.state).toBe('succeeded');
        expect(await store.getDelivery({ scope: 'acme', id: batch[0]!.id })).toMatchObject({
          state: 'pending',
          attemptCount: 0,
        });
        expect(await store.getDelivery({ scope: 'acme', id: batch[1]!.id })).toMatchObject({
          state: 'pending',
          attemptCount: 1,
        });
        expect(
          (await store.listAttempts({ scope: 'acme', deliveryId: batch[0]!.id, offset: 0, limit: null }))
            .count,
        ).toBe(1);
        expect(await store.recordAttempts({ items: [] })).toEqual([]);
      }),
    );

    it(
      'never adds an attempt to a canceled delivery',
      ctx.withStore(async (store) => {
        const { webhookId, delivery: d } = await enqueueOne(store);
        // A worker whose lease ran out: the delivery was canceled after it expired.
        const [claim] = await store.claimDue({ limit: 1, leaseMs: 100, now: at(0) });
        expect(
          await store.cancelPending({ scope: 'acme', webhookId, reason: 'webhook removed', now: at(500) }),
        ).toBe(1);
        const [late] = await store.recordAttempts({
          items: [
            {
              deliveryId: d.id,
              leaseToken: claim!.leaseToken,
              attempt: attemptData(at(600)),
              outcome: { state: 'succeeded' },
              now: at(600),
            },
          ],
        });
        expect(late?.applied).toBe(false);
        expect((await store.getDelivery({ scope: 'acme', id: d.id }))?.state).toBe('canceled');
        const log = await store.listAttempts({ scope: 'acme', deliveryId: d.id, offset: 0, limit: null });
        expect(log.count).toBe(0);
      }),
    );
  });
}
