/**
 * Conformance part "enqueueMany": the optional `Store.enqueueMany`, several notifications
 * stored in one atomic step (what `registry.emitMany()` uses).
 *
 * @module
 */
import { describe, expect } from 'vitest';
import { ConflictError } from '../../errors.js';
import { type ConformanceContext, optedOut, optionalCase } from './context.js';
import { insertHook, newDelivery, T0 } from './fixtures.js';

/**
 * Registers the `enqueueMany` cases (capability `enqueueMany`; without the method,
 * `registry.emitMany()` calls `enqueue` per notification).
 *
 * @example
 * ```ts
 * enqueueManyCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function enqueueManyCases(ctx: ConformanceContext): void {
  if (optedOut(ctx, 'enqueueMany')) return;
  describe('enqueueMany (optional)', () => {
    optionalCase(
      ctx,
      'enqueueMany',
      'stores every notification with its deliveries and answers in order, across scopes',
      async (store) => {
        const acme = await insertHook(store, 'acme');
        const other = await insertHook(store, 'other');
        const a = [newDelivery(acme), newDelivery(acme)];
        const b = [newDelivery(other)];
        const failed = [newDelivery(acme, { failure: 'template_failed: bad header' })];
        const results = await store.enqueueMany({
          items: [
            { scope: 'acme', notificationId: 'n1', deliveries: a },
            { scope: 'other', notificationId: 'n1', deliveries: b },
            { scope: 'acme', notificationId: 'n2', deliveries: [] },
            { scope: 'acme', notificationId: 'n3', deliveries: failed },
          ],
          now: T0,
        });
        expect(results).toEqual([
          { created: true, deliveryIds: a.map((d) => d.id) },
          { created: true, deliveryIds: b.map((d) => d.id) },
          { created: true, deliveryIds: [] },
          { created: true, deliveryIds: failed.map((d) => d.id) },
        ]);
        expect(await store.getDelivery({ scope: 'other', id: b[0]!.id })).toMatchObject({
          scope: 'other',
          notificationId: 'n1',
          state: 'pending',
        });
        expect(await store.getDelivery({ scope: 'acme', id: failed[0]!.id })).toMatchObject({
          state: 'failed',
          lastError: 'template_failed: bad header',
        });
        const claims = await store.claimDue({ limit: 10, leaseMs: 60_000, now: T0 });
        expect(claims.map((c) => c.id).sort()).toEqual([...a, ...b].map((d) => d.id).sort());
        // The same ids again, as enqueue would answer them: nothing new is stored.
        const again = await store.enqueue({
          scope: 'acme',
          notificationId: 'n1',
          deliveries: [newDelivery(acme)],
          now: T0,
        });
        expect(again).toEqual({ created: false, deliveryIds: a.map((d) => d.id) });
      },
    );

    optionalCase(
      ctx,
      'enqueueMany',
      'stores nothing new for a notification id the scope has, and stores the others',
      async (store) => {
        const webhookId = await insertHook(store);
        const first = [newDelivery(webhookId)];
        await store.enqueue({ scope: 'acme', notificationId: 'old', deliveries: first, now: T0 });
        const fresh = [newDelivery(webhookId)];
        const results = await store.enqueueMany({
          items: [
            { scope: 'acme', notificationId: 'old', deliveries: [newDelivery(webhookId)] },
            { scope: 'acme', notificationId: 'new', deliveries: fresh },
          ],
          now: T0,
        });
        expect(results).toEqual([
          { created: false, deliveryIds: first.map((d) => d.id) },
          { created: true, deliveryIds: fresh.map((d) => d.id) },
        ]);
        const listed = await store.listDeliveries({ scope: 'acme', webhookId, offset: 0, limit: null });
        expect(listed.count).toBe(2);
        expect(await store.enqueueMany({ items: [], now: T0 })).toEqual([]);
      },
    );

    optionalCase(
      ctx,
      'enqueueMany',
      'is atomic: when one notification cannot be stored, none of the batch is',
      async (store) => {
        const webhookId = await insertHook(store);
        const taken = newDelivery(webhookId);
        await store.enqueue({ scope: 'acme', notificationId: 'first', deliveries: [taken], now: T0 });
        const good = newDelivery(webhookId);
        await expect(
          store.enqueueMany({
            items: [
              { scope: 'acme', notificationId: 'good', deliveries: [good] },
              // A delivery id another notification has: a ConflictError.
              {
                scope: 'acme',
                notificationId: 'clash',
                deliveries: [{ ...newDelivery(webhookId), id: taken.id }],
              },
            ],
            now: T0,
          }),
        ).rejects.toBeInstanceOf(ConflictError);
        expect(await store.getDelivery({ scope: 'acme', id: good.id })).toBeNull();
        // Nothing of "good" was kept: enqueued again, it is new.
        const retry = await store.enqueue({
          scope: 'acme',
          notificationId: 'good',
          deliveries: [good],
          now: T0,
        });
        expect(retry.created).toBe(true);
      },
    );
  });
}
