/**
 * Conformance part "outbox": enqueue (atomic, idempotent, failures stored as failed), lists of
 * deliveries, redeliver, cancelPending, purging attempts and the outbox summary.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../errors.js';
import type { ConformanceContext } from './context.js';
import { at, attemptData, enqueueOne, insertHook, newDelivery, recordOne, T0, T1 } from './fixtures.js';

/**
 * Registers the `outbox` cases. `redeliver` pins `assertRedeliverable` of `stores/rules.ts`
 * (a finished delivery may be delivered again, a pending one is a `ConflictError`).
 *
 * @example
 * ```ts
 * outboxCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function outboxCases(ctx: ConformanceContext): void {
  describe('outbox (rules: assertRedeliverable)', () => {
    it(
      'enqueues pending deliveries due now and lists them newest first, per scope',
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const batch = [newDelivery(webhookId), newDelivery(webhookId)];
        const result = await store.enqueue({
          scope: 'acme',
          notificationId: 'n1',
          deliveries: batch,
          now: T0,
        });
        expect(result).toEqual({ created: true, deliveryIds: batch.map((d) => d.id) });
        const delivery = await store.getDelivery({ scope: 'acme', id: batch[0]!.id });
        expect(delivery).toMatchObject({
          id: batch[0]!.id,
          scope: 'acme',
          webhookId,
          notificationId: 'n1',
          type: 'pretix.event.order.paid',
          event: 'democon',
          request: batch[0]!.request,
          state: 'pending',
          attemptCount: 0,
          lastStatus: null,
          lastError: null,
        });
        expect(delivery?.nextAttemptAt?.toISOString()).toBe(T0.toISOString());
        expect(await store.getDelivery({ scope: 'other', id: batch[0]!.id })).toBeNull();
        const listed = await store.listDeliveries({ scope: 'acme', webhookId, offset: 0, limit: null });
        expect(listed.count).toBe(2);
        expect(listed.items.map((d) => d.id)).toEqual([batch[1]!.id, batch[0]!.id]);
        const paged = await store.listDeliveries({ scope: 'acme', webhookId, offset: 1, limit: 1 });
        expect(paged).toMatchObject({ count: 2, items: [{ id: batch[0]!.id }] });
        expect(await store.listDeliveries({ scope: 'other', webhookId, offset: 0, limit: null })).toEqual({
          count: 0,
          items: [],
        });
      }),
    );

    it(
      'stores a delivery with a failure as failed, never to be claimed',
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const broken = newDelivery(webhookId, { failure: 'template_render_failed: bad header' });
        const fine = newDelivery(webhookId);
        await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [broken, fine], now: T0 });
        expect(await store.getDelivery({ scope: 'acme', id: broken.id })).toMatchObject({
          state: 'failed',
          lastError: 'template_render_failed: bad header',
          nextAttemptAt: null,
          attemptCount: 0,
        });
        const claimed = await store.claimDue({ limit: 10, leaseMs: 1000, now: T1 });
        expect(claimed.map((d) => d.id)).toEqual([fine.id]);
      }),
    );

    it(
      'is idempotent per scope and notification id',
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const other = await insertHook(store, 'other');
        const first = [newDelivery(webhookId)];
        await store.enqueue({ scope: 'acme', notificationId: 'same', deliveries: first, now: T0 });
        const again = await store.enqueue({
          scope: 'acme',
          notificationId: 'same',
          deliveries: [newDelivery(webhookId)],
          now: T1,
        });
        expect(again).toEqual({ created: false, deliveryIds: [first[0]!.id] });
        expect((await store.listDeliveries({ scope: 'acme', webhookId, offset: 0, limit: null })).count).toBe(
          1,
        );
        const elsewhere = await store.enqueue({
          scope: 'other',
          notificationId: 'same',
          deliveries: [newDelivery(other)],
          now: T0,
        });
        expect(elsewhere.created).toBe(true);
        const empty = await store.enqueue({
          scope: 'acme',
          notificationId: 'none',
          deliveries: [],
          now: T0,
        });
        expect(empty).toEqual({ created: true, deliveryIds: [] });
        const emptyAgain = await store.enqueue({
          scope: 'acme',
          notificationId: 'none',
          deliveries: [newDelivery(webhookId)],
          now: T0,
        });
        expect(emptyAgain).toEqual({ created: false, deliveryIds: [] });
        const pair = [newDelivery(webhookId), newDelivery(webhookId)];
        const made = await store.enqueue({
          scope: 'acme',
          notificationId: 'pair',
          deliveries: pair,
          now: T0,
        });
        expect(made).toEqual({ created: true, deliveryIds: pair.map((d) => d.id) });
        made.deliveryIds.push('msg_mutated'); // the result is the caller's to change
        const pairAgain = await store.enqueue({
          scope: 'acme',
          notificationId: 'pair',
          deliveries: [newDelivery(webhookId)],
          now: T1,
        });
        expect(pairAgain).toEqual({ created: false, deliveryIds: pair.map((d) => d.id) });
      }),
    );

    it(
      'redelivers a finished delivery as a new series and refuses a pending one',
      ctx.withStore(async (store) => {
        const { delivery: d } = await enqueueOne(store);
        await expect(store.redeliver({ scope: 'acme', id: d.id, now: at(1) })).rejects.toBeInstanceOf(
          ConflictError,
        );
        const [claim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(0) });
        await recordOne(store, {
          deliveryId: d.id,
          leaseToken: claim!.leaseToken,
          attempt: attemptData(at(0), { status: 410, ok: false, error: 'HTTP 410' }),
          outcome: { state: 'failed' },
          now: at(1),
        });
        expect(await store.redeliver({ scope: 'other', id: d.id, now: at(2) })).toBeNull();
        expect(await store.redeliver({ scope: 'acme', id: 'msg_missing', now: at(2) })).toBeNull();
        const again = await store.redeliver({ scope: 'acme', id: d.id, now: at(10) });
        expect(again).toMatchObject({ id: d.id, state: 'pending', attemptCount: 0 });
        expect(again?.nextAttemptAt?.toISOString()).toBe(at(10).toISOString());
        const [reclaim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(10) });
        await recordOne(store, {
          deliveryId: d.id,
          leaseToken: reclaim!.leaseToken,
          attempt: attemptData(at(10)),
          outcome: { state: 'succeeded' },
          now: at(11),
        });
        const log = await store.listAttempts({ scope: 'acme', deliveryId: d.id, offset: 0, limit: null });
        expect(log.items.map((a) => [a.attemptNumber, a.retry])).toEqual([
          [1, true],
          [1, false],
        ]);
      }),
    );

    it(
      "cancels a webhook's pending deliveries, leaves live claims to their claimer, and nothing else",
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const otherHook = await insertHook(store);
        const a = newDelivery(webhookId);
        const b = newDelivery(webhookId);
        const c = newDelivery(otherHook);
        const d = newDelivery(webhookId);
        await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [a, b, c], now: at(0) });
        await store.enqueue({ scope: 'acme', notificationId: 'm', deliveries: [d], now: at(5) });
        // `a` (first due) under a live lease, `b` under one that has expired by `at(1000)`.
        const [live] = await store.claimDue({ limit: 1, leaseMs: 60_000, now: at(0) });
        expect(live?.id).toBe(a.id);
        const [expired] = await store.claimDue({ limit: 1, leaseMs: 100, now: at(1) });
        expect(expired?.id).toBe(b.id);
        const count = await store.cancelPending({
          scope: 'acme',
          webhookId,
          reason: 'webhook disabled',
          now: at(1000),
        });
        expect(count).toBe(2); // b and d
        expect(
          await store.cancelPending({ scope: 'other', webhookId: otherHook, reason: 'x', now: at(1000) }),
        ).toBe(0);
        expect((await store.getDelivery({ scope: 'acme', id: c.id }))?.state).toBe('pending');
        expect((await store.getDelivery({ scope: 'acme', id: a.id }))?.state).toBe('pending');
        // The live claim is its claimer's to finish: cancel it (not sent), or record its attempt.
        expect(
          await store.cancelClaimed({
            deliveryId: a.id,
            leaseToken: live!.leaseToken,
            reason: 'webhook disabled',
            now: at(1001),
          }),
        ).toBe(true);
        const canceled = await store.listDeliveries({
          scope: 'acme',
          webhookId,
          state: 'canceled',
          offset: 0,
          limit: null,
        });
        expect(canceled.count).toBe(3);
        expect((await store.getDelivery({ scope: 'acme', id: b.id }))?.lastError).toBe('webhook disabled');
      }),
    );

    it(
      'purges attempts older than a cut-off',
      ctx.withStore(async (store) => {
        const { delivery: d } = await enqueueOne(store);
        for (const t of [0, 10_000, 20_000]) {
          const [claim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(t) });
          await recordOne(store, {
            deliveryId: d.id,
            leaseToken: claim!.leaseToken,
            attempt: attemptData(at(t), { ok: false, status: 500, error: 'HTTP 500' }),
            outcome: { state: 'pending', nextAttemptAt: at(t + 10_000) },
            now: at(t),
          });
        }
        expect(await store.purgeAttempts({ before: at(15_000) })).toBe(2);
        const log = await store.listAttempts({ scope: 'acme', deliveryId: d.id, offset: 0, limit: null });
        expect(log.items.map((a) => a.startedAt.toISOString())).toEqual([at(20_000).toISOString()]);
      }),
    );

    it(
      'summarizes what is due and pending',
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        expect(await store.outboxSummary({ now: at(0) })).toEqual({
          due: 0,
          pending: 0,
          nextAttemptAt: null,
        });
        await store.enqueue({
          scope: 'acme',
          notificationId: 'a',
          deliveries: [newDelivery(webhookId)],
          now: at(0),
        });
        await store.enqueue({
          scope: 'acme',
          notificationId: 'b',
          deliveries: [newDelivery(webhookId)],
          now: at(500),
        });
        expect(await store.outboxSummary({ now: at(100) })).toEqual({
          due: 1,
          pending: 2,
          nextAttemptAt: at(0),
        });
        await store.claimDue({ limit: 1, leaseMs: 10_000, now: at(1000) });
        expect(await store.outboxSummary({ now: at(1000) })).toEqual({
          due: 1,
          pending: 2,
          nextAttemptAt: at(0),
        });
      }),
    );
  });
}
