/**
 * Conformance part "webhooks": insert, read, list, update and delete webhooks; ids, keys,
 * scopes, copies, paging, and the optional `webhooksVersion`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../errors.js';
import { type ConformanceContext, optionalCase } from './context.js';
import { attemptData, newDelivery, recordOne, T0, T1, webhookFields } from './fixtures.js';

/**
 * Registers the `webhooks` cases: the webhook half of the `Store` contract (racing inserts are
 * in the `concurrency` part).
 *
 * @example
 * ```ts
 * webhookCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function webhookCases(ctx: ConformanceContext): void {
  describe('webhooks', () => {
    it(
      'assigns positive, increasing ids across scopes',
      ctx.withStore(async (store) => {
        const a = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
        const b = await store.insertWebhook({ scope: 'b', fields: webhookFields(), now: T0 });
        const c = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
        expect(a.id).toBeGreaterThan(0);
        expect(b.id).toBeGreaterThan(a.id);
        expect(c.id).toBeGreaterThan(b.id);
      }),
    );

    it(
      'stores every field and returns it unchanged',
      ctx.withStore(async (store) => {
        const fields = webhookFields({
          key: 'k1',
          method: 'PUT',
          eventTypes: ['a.b', 'a.c.*'],
          allEvents: false,
          limitEvents: ['democon', 'other'],
          headerTemplate: 'X-A: {{a}}',
          bodyTemplate: '{"a":"{{a}}"}',
          templateEscape: 'json',
          comment: 'hello',
          secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
        });
        const inserted = await store.insertWebhook({ scope: 'acme', fields, now: T0 });
        expect(inserted).toMatchObject({ ...fields, scope: 'acme', disabledReason: null });
        expect(inserted.createdAt.toISOString()).toBe(T0.toISOString());
        expect(inserted.updatedAt.toISOString()).toBe(T0.toISOString());
        const read = await store.getWebhook({ scope: 'acme', id: inserted.id });
        expect(read).toEqual(inserted);
      }),
    );

    it(
      "marks a webhook created disabled as disabled for reason 'manual'",
      ctx.withStore(async (store) => {
        const hook = await store.insertWebhook({
          scope: 'acme',
          fields: webhookFields({ enabled: false }),
          now: T0,
        });
        expect(hook.disabledReason).toBe('manual');
      }),
    );

    it(
      'returns copies: mutating a result does not change what is stored',
      ctx.withStore(async (store) => {
        const hook = await store.insertWebhook({ scope: 'acme', fields: webhookFields(), now: T0 });
        hook.eventTypes.push('mutated');
        hook.url = 'https://mutated.example/';
        const read = await store.getWebhook({ scope: 'acme', id: hook.id });
        expect(read?.eventTypes).toEqual(['pretix.event.order.paid']);
        expect(read?.url).toBe('https://receiver.example/hook');
        read?.limitEvents.push('x');
        const again = await store.getWebhook({ scope: 'acme', id: hook.id });
        expect(again?.limitEvents).toEqual([]);
      }),
    );

    it(
      'never shows one scope the webhooks of another',
      ctx.withStore(async (store) => {
        const hook = await store.insertWebhook({
          scope: 'a',
          fields: webhookFields({ key: 'k' }),
          now: T0,
        });
        expect(await store.getWebhook({ scope: 'b', id: hook.id })).toBeNull();
        expect(await store.getWebhookByKey({ scope: 'b', key: 'k' })).toBeNull();
        expect(await store.listWebhooks({ scope: 'b', offset: 0, limit: null })).toEqual({
          count: 0,
          items: [],
        });
        expect(
          await store.updateWebhook({
            scope: 'b',
            id: hook.id,
            changes: { url: 'https://x.example/' },
            now: T1,
          }),
        ).toBeNull();
        expect(await store.deleteWebhook({ scope: 'b', id: hook.id })).toBe(false);
        expect((await store.getWebhook({ scope: 'a', id: hook.id }))?.url).toBe(
          'https://receiver.example/hook',
        );
      }),
    );

    it(
      'finds a webhook by key within its scope',
      ctx.withStore(async (store) => {
        await store.insertWebhook({ scope: 'a', fields: webhookFields({ key: 'one' }), now: T0 });
        const two = await store.insertWebhook({
          scope: 'a',
          fields: webhookFields({ key: 'two' }),
          now: T0,
        });
        expect((await store.getWebhookByKey({ scope: 'a', key: 'two' }))?.id).toBe(two.id);
        expect(await store.getWebhookByKey({ scope: 'a', key: 'three' })).toBeNull();
      }),
    );

    it(
      'rejects a duplicate key in one scope, allows it in another, and allows many null keys',
      ctx.withStore(async (store) => {
        await store.insertWebhook({ scope: 'a', fields: webhookFields({ key: 'dup' }), now: T0 });
        await expect(
          store.insertWebhook({ scope: 'a', fields: webhookFields({ key: 'dup' }), now: T0 }),
        ).rejects.toBeInstanceOf(ConflictError);
        await expect(
          store.insertWebhook({ scope: 'b', fields: webhookFields({ key: 'dup' }), now: T0 }),
        ).resolves.toMatchObject({ key: 'dup', scope: 'b' });
        await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
        await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
        expect((await store.listWebhooks({ scope: 'a', offset: 0, limit: null })).count).toBe(3);
      }),
    );

    it(
      'rejects an update to a key another webhook of the scope has',
      ctx.withStore(async (store) => {
        await store.insertWebhook({ scope: 'a', fields: webhookFields({ key: 'taken' }), now: T0 });
        const other = await store.insertWebhook({
          scope: 'a',
          fields: webhookFields({ key: 'mine' }),
          now: T0,
        });
        await expect(
          store.updateWebhook({ scope: 'a', id: other.id, changes: { key: 'taken' }, now: T1 }),
        ).rejects.toBeInstanceOf(ConflictError);
        const same = await store.updateWebhook({
          scope: 'a',
          id: other.id,
          changes: { key: 'mine' },
          now: T1,
        });
        expect(same?.key).toBe('mine');
      }),
    );

    it(
      'lists by id with count, offset, limit and the enabled filter',
      ctx.withStore(async (store) => {
        const ids: number[] = [];
        for (let i = 0; i < 7; i++) {
          const hook = await store.insertWebhook({
            scope: 'a',
            fields: webhookFields({ enabled: i % 3 !== 0, comment: `n${i}` }),
            now: T0,
          });
          ids.push(hook.id);
        }
        await store.insertWebhook({ scope: 'other', fields: webhookFields(), now: T0 });
        const all = await store.listWebhooks({ scope: 'a', offset: 0, limit: null });
        expect(all.count).toBe(7);
        expect(all.items.map((h) => h.id)).toEqual(ids);
        const page = await store.listWebhooks({ scope: 'a', offset: 2, limit: 3 });
        expect(page.count).toBe(7);
        expect(page.items.map((h) => h.id)).toEqual(ids.slice(2, 5));
        const past = await store.listWebhooks({ scope: 'a', offset: 10, limit: 3 });
        expect(past).toEqual({ count: 7, items: [] });
        const disabled = await store.listWebhooks({ scope: 'a', enabled: false, offset: 0, limit: null });
        expect(disabled.items.map((h) => h.comment)).toEqual(['n0', 'n3', 'n6']);
        const enabled = await store.listWebhooks({ scope: 'a', enabled: true, offset: 1, limit: 2 });
        expect(enabled.count).toBe(4);
        expect(enabled.items.map((h) => h.comment)).toEqual(['n2', 'n4']);
      }),
    );

    it(
      'updates only the given fields, sets updatedAt and keeps id, scope and createdAt',
      ctx.withStore(async (store) => {
        const hook = await store.insertWebhook({
          scope: 'a',
          fields: webhookFields({ comment: 'c' }),
          now: T0,
        });
        const updated = await store.updateWebhook({
          scope: 'a',
          id: hook.id,
          changes: {
            url: 'https://new.example/',
            enabled: false,
            disabledReason: 'gone',
            eventTypes: ['x.y'],
          },
          now: T1,
        });
        expect(updated).toMatchObject({
          id: hook.id,
          scope: 'a',
          url: 'https://new.example/',
          enabled: false,
          disabledReason: 'gone',
          eventTypes: ['x.y'],
          comment: 'c',
        });
        expect(updated?.createdAt.toISOString()).toBe(T0.toISOString());
        expect(updated?.updatedAt.toISOString()).toBe(T1.toISOString());
        expect(await store.getWebhook({ scope: 'a', id: hook.id })).toEqual(updated);
        expect(
          await store.updateWebhook({ scope: 'a', id: hook.id + 1000, changes: {}, now: T1 }),
        ).toBeNull();
      }),
    );

    optionalCase(
      ctx,
      'webhooksVersion',
      'bumps the webhook version of a scope on every webhook write, and only then (when it keeps one)',
      // optional: without it, registries cache a scope's index until invalidate()
      async (store) => {
        const version = store.webhooksVersion.bind(store);
        expect(await version({ scope: 'a' })).toBe(0);
        const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
        expect(await version({ scope: 'a' })).toBe(1);
        await store.updateWebhook({ scope: 'a', id: hook.id, changes: { comment: 'x' }, now: T1 });
        expect(await version({ scope: 'a' })).toBe(2);
        const d = newDelivery(hook.id);
        await store.enqueue({ scope: 'a', notificationId: 'n', deliveries: [d], now: T0 });
        const [claim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: T1 });
        await recordOne(store, {
          deliveryId: d.id,
          leaseToken: claim!.leaseToken,
          attempt: attemptData(T1, { ok: false, status: 500, error: 'HTTP 500' }),
          outcome: { state: 'failed' },
          now: T1,
        });
        expect(await version({ scope: 'a' })).toBe(2);
        expect(await version({ scope: 'b' })).toBe(0);
        await store.deleteWebhook({ scope: 'a', id: hook.id });
        expect(await version({ scope: 'a' })).toBe(3);
        await store.deleteWebhook({ scope: 'a', id: hook.id });
        expect(await version({ scope: 'a' })).toBe(3);
      },
    );

    optionalCase(
      ctx,
      'webhooksVersion',
      'checks the webhook version given to enqueue when it declares enqueueChecksVersion',
      async (store) => {
        if (store.enqueueChecksVersion !== true) {
          // Without the flag, registries read the version before each emit and pass none.
          expect(store.enqueueChecksVersion ?? false).toBe(false);
          return;
        }
        const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
        expect(await store.webhooksVersion({ scope: 'a' })).toBe(1);
        // Another version: nothing is stored, and the id stays free.
        const d1 = newDelivery(hook.id);
        const stale = await store.enqueue({
          scope: 'a',
          notificationId: 'n1',
          deliveries: [d1],
          now: T0,
          webhooksVersion: 0,
        });
        expect(stale).toEqual({ created: false, deliveryIds: [], stale: true });
        expect(await store.getDelivery({ scope: 'a', id: d1.id })).toBeNull();
        expect(await store.claimDue({ limit: 10, leaseMs: 1000, now: T1 })).toEqual([]);
        // A scope without webhooks is at version 0.
        const none = await store.enqueue({
          scope: 'b',
          notificationId: 'n1',
          deliveries: [],
          now: T0,
          webhooksVersion: 0,
        });
        expect(none).toEqual({ created: true, deliveryIds: [], stale: false });
        // The current version: stored as without one.
        const stored = await store.enqueue({
          scope: 'a',
          notificationId: 'n1',
          deliveries: [d1],
          now: T0,
          webhooksVersion: 1,
        });
        expect(stored).toEqual({ created: true, deliveryIds: [d1.id], stale: false });
        expect((await store.getDelivery({ scope: 'a', id: d1.id }))?.state).toBe('pending');
        // A repeated notification id answers with the first ids, as without a version.
        const again = await store.enqueue({
          scope: 'a',
          notificationId: 'n1',
          deliveries: [newDelivery(hook.id)],
          now: T0,
          webhooksVersion: 1,
        });
        expect(again).toEqual({ created: false, deliveryIds: [d1.id], stale: false });
        await store.updateWebhook({ scope: 'a', id: hook.id, changes: { comment: 'x' }, now: T1 });
        const old = await store.enqueue({
          scope: 'a',
          notificationId: 'n2',
          deliveries: [newDelivery(hook.id)],
          now: T1,
          webhooksVersion: 1,
        });
        expect(old.stale).toBe(true);
      },
    );

    optionalCase(
      ctx,
      'webhooksVersion',
      'keeps one webhook version per scope, which writes that change nothing leave as it is (when it keeps one)',
      async (store) => {
        const version = store.webhooksVersion.bind(store);
        const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields({ key: 'k' }), now: T0 });
        await store.insertWebhook({ scope: 'a', fields: webhookFields({ key: 'taken' }), now: T0 });
        expect(await version({ scope: 'a' })).toBe(2);
        await store.insertWebhook({ scope: 'b', fields: webhookFields({ key: 'k' }), now: T0 });
        const other = await store.insertWebhook({ scope: 'b', fields: webhookFields(), now: T0 });
        await store.updateWebhook({ scope: 'b', id: other.id, changes: { comment: 'x' }, now: T1 });
        await store.deleteWebhook({ scope: 'b', id: other.id });
        expect(await version({ scope: 'b' })).toBe(4);
        expect(await version({ scope: 'a' })).toBe(2);
        // Refused writes, and writes of a webhook that is not there (in that scope), change nothing.
        await expect(
          store.insertWebhook({ scope: 'a', fields: webhookFields({ key: 'k' }), now: T0 }),
        ).rejects.toBeInstanceOf(ConflictError);
        await expect(
          store.updateWebhook({ scope: 'a', id: hook.id, changes: { key: 'taken' }, now: T1 }),
        ).rejects.toBeInstanceOf(ConflictError);
        expect(
          await store.updateWebhook({ scope: 'a', id: hook.id + 1000, changes: { comment: 'x' }, now: T1 }),
        ).toBeNull();
        expect(
          await store.updateWebhook({ scope: 'b', id: hook.id, changes: { comment: 'x' }, now: T1 }),
        ).toBeNull();
        expect(await store.deleteWebhook({ scope: 'b', id: hook.id })).toBe(false);
        expect(await version({ scope: 'a' })).toBe(2);
        expect(await version({ scope: 'b' })).toBe(4);
      },
    );

    it(
      'deletes within the scope and reports whether anything was deleted',
      ctx.withStore(async (store) => {
        const hook = await store.insertWebhook({
          scope: 'a',
          fields: webhookFields({ key: 'k' }),
          now: T0,
        });
        expect(await store.deleteWebhook({ scope: 'a', id: hook.id })).toBe(true);
        expect(await store.deleteWebhook({ scope: 'a', id: hook.id })).toBe(false);
        expect(await store.getWebhook({ scope: 'a', id: hook.id })).toBeNull();
        await expect(
          store.insertWebhook({ scope: 'a', fields: webhookFields({ key: 'k' }), now: T0 }),
        ).resolves.toMatchObject({ key: 'k' });
      }),
    );
  });
}
