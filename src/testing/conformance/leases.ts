/**
 * Conformance part "leases": what `claimDue` hands out and for how long, and the lease-token
 * checks of `recordAttempts`, `cancelClaimed` and `releaseClaim`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './context.js';
import {
  at,
  attemptData,
  enqueueOne,
  insertHook,
  newDelivery,
  recordOne,
  T0,
  T1,
  webhookFields,
} from './fixtures.js';

/**
 * Registers the `leases` cases. They pin `holdsLease` of `stores/rules.ts`: only the caller
 * holding the delivery's current lease token moves it (concurrent claimers are in the
 * `concurrency` part).
 *
 * @example
 * ```ts
 * leaseCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function leaseCases(ctx: ConformanceContext): void {
  describe('leases (rules: holdsLease)', () => {
    it(
      'claims only due deliveries, oldest first, up to the limit, under a lease',
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const early = newDelivery(webhookId);
        const late = newDelivery(webhookId);
        await store.enqueue({ scope: 'acme', notificationId: 'a', deliveries: [early], now: at(0) });
        await store.enqueue({ scope: 'acme', notificationId: 'b', deliveries: [late], now: at(5_000) });
        expect(await store.claimDue({ limit: 10, leaseMs: 1000, now: at(-1) })).toEqual([]);
        const first = await store.claimDue({ limit: 1, leaseMs: 30_000, now: at(10_000) });
        expect(first.map((d) => d.id)).toEqual([early.id]);
        expect(first[0]!.leaseUntil.toISOString()).toBe(at(40_000).toISOString());
        expect(typeof first[0]!.leaseToken).toBe('string');
        const second = await store.claimDue({ limit: 10, leaseMs: 30_000, now: at(10_000) });
        expect(second.map((d) => d.id)).toEqual([late.id]);
        expect(await store.claimDue({ limit: 10, leaseMs: 30_000, now: at(39_999) })).toEqual([]);
        const reclaimed = await store.claimDue({ limit: 10, leaseMs: 30_000, now: at(40_001) });
        expect(reclaimed.map((d) => d.id)).toContain(early.id);
        expect(reclaimed.find((d) => d.id === early.id)?.leaseToken).not.toBe(first[0]!.leaseToken);
      }),
    );

    it(
      'hands out each claim with its webhook as it is now, or null once removed',
      ctx.withStore(async (store) => {
        const kept = await store.insertWebhook({
          scope: 'acme',
          fields: webhookFields({ secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }),
          now: T0,
        });
        const removed = await store.insertWebhook({ scope: 'acme', fields: webhookFields(), now: T0 });
        const a = newDelivery(kept.id);
        const b = newDelivery(removed.id);
        await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [a, b], now: T0 });
        await store.updateWebhook({
          scope: 'acme',
          id: kept.id,
          changes: { enabled: false, disabledReason: 'manual' },
          now: T1,
        });
        await store.deleteWebhook({ scope: 'acme', id: removed.id });
        const claims = await store.claimDue({ limit: 10, leaseMs: 1000, now: T1 });
        const claimA = claims.find((c) => c.id === a.id);
        const claimB = claims.find((c) => c.id === b.id);
        expect(claimA?.webhook).toMatchObject({
          id: kept.id,
          scope: 'acme',
          enabled: false,
          secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
        });
        expect(claimB?.webhook).toBeNull();
      }),
    );

    it(
      'records but does not apply the outcome of a worker whose lease was taken over',
      ctx.withStore(async (store) => {
        const { webhookId, delivery: d } = await enqueueOne(store);
        const [stale] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(0) });
        const [fresh] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(2000) });
        expect(fresh?.id).toBe(d.id);
        const late = await recordOne(store, {
          deliveryId: d.id,
          leaseToken: stale!.leaseToken,
          attempt: attemptData(at(0), { status: 500, ok: false, error: 'late' }),
          outcome: { state: 'failed' },
          now: at(2100),
        });
        expect(late.applied).toBe(false);
        expect(await store.getDelivery({ scope: 'acme', id: d.id })).toMatchObject({
          state: 'pending',
          attemptCount: 0,
        });
        const ok = await recordOne(store, {
          deliveryId: d.id,
          leaseToken: fresh!.leaseToken,
          attempt: attemptData(at(2000)),
          outcome: { state: 'succeeded' },
          now: at(2200),
        });
        expect(ok.applied).toBe(true);
        expect(
          (await store.listAttempts({ scope: 'acme', deliveryId: d.id, offset: 0, limit: null })).count,
        ).toBe(2);
        expect((await store.getWebhook({ scope: 'acme', id: webhookId }))?.consecutiveFailures).toBe(0);
      }),
    );

    it(
      'cancels or releases a claimed delivery only under its current lease',
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const a = newDelivery(webhookId);
        const b = newDelivery(webhookId);
        await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [a, b], now: at(0) });
        const claims = await store.claimDue({ limit: 2, leaseMs: 60_000, now: at(0) });
        const claimA = claims.find((c) => c.id === a.id)!;
        const claimB = claims.find((c) => c.id === b.id)!;
        expect(
          await store.cancelClaimed({ deliveryId: a.id, leaseToken: 'wrong', reason: 'x', now: at(1) }),
        ).toBe(false);
        expect(
          await store.cancelClaimed({
            deliveryId: a.id,
            leaseToken: claimA.leaseToken,
            reason: 'webhook disabled',
            now: at(1),
          }),
        ).toBe(true);
        expect(await store.getDelivery({ scope: 'acme', id: a.id })).toMatchObject({
          state: 'canceled',
          lastError: 'webhook disabled',
          nextAttemptAt: null,
        });
        expect(
          await store.releaseClaim({ deliveryId: b.id, leaseToken: claimB.leaseToken, now: at(2) }),
        ).toBe(true);
        const again = await store.claimDue({ limit: 5, leaseMs: 60_000, now: at(2) });
        expect(again.map((d) => d.id)).toEqual([b.id]);
        expect(
          await store.releaseClaim({ deliveryId: b.id, leaseToken: claimB.leaseToken, now: at(3) }),
        ).toBe(false);
      }),
    );

    it(
      "hands each claim its delivery's traceContext as enqueued (null without one), also after a redelivery",
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const traced = newDelivery(webhookId, {
          traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        });
        const plain = newDelivery(webhookId);
        await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [traced, plain], now: at(0) });
        const claims = await store.claimDue({ limit: 10, leaseMs: 1000, now: at(0) });
        const byId = new Map(claims.map((c) => [c.id, c]));
        expect(byId.get(traced.id)?.traceContext).toBe(traced.traceContext);
        expect(byId.get(plain.id)?.traceContext ?? null).toBeNull();
        const claim = byId.get(traced.id)!;
        await recordOne(store, {
          deliveryId: traced.id,
          leaseToken: claim.leaseToken,
          attempt: attemptData(at(1)),
          outcome: { state: 'succeeded' },
          now: at(2),
        });
        await store.redeliver({ scope: 'acme', id: traced.id, now: at(3) });
        const [again] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(3) });
        expect(again?.id).toBe(traced.id);
        expect(again?.traceContext).toBe(traced.traceContext);
      }),
    );
  });
}
