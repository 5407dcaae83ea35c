import { describe, expect, it } from 'vitest';
import { ConflictError } from '../errors.js';
import type { OutgoingRequest, WebhookFields } from '../model.js';
import type { AttemptResult, NewDelivery, Store, StoreSignal } from '../stores/types.js';

/** Options of {@link storeConformance}. */
export interface StoreConformanceOptions {
  /** Name shown in the test report, e.g. `memory` or `mysql`. */
  name: string;
  /**
   * Returns a fresh, empty store for one test. Called once per test; the suite never reuses
   * a store across tests.
   */
  createStore: () => Store | Promise<Store>;
  /** Called after each test with the store it used (drop tables, close pools). Default: `store.close?.()`. */
  destroyStore?: (store: Store) => void | Promise<void>;
}

const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-01-01T00:01:00.000Z');

/** Complete writable fields for a test webhook, with overrides. */
export function webhookFields(overrides: Partial<WebhookFields> = {}): WebhookFields {
  return {
    key: null,
    enabled: true,
    url: 'https://receiver.example/hook',
    method: 'POST',
    eventTypes: ['pretix.event.order.paid'],
    allEvents: true,
    limitEvents: [],
    headerTemplate: null,
    bodyTemplate: null,
    templateEscape: null,
    comment: null,
    secrets: [],
    ...overrides,
  };
}

let deliverySeq = 0;

/** A delivery to enqueue in tests; ids are unique within the process. */
export function newDelivery(webhookId: number, overrides: Partial<NewDelivery> = {}): NewDelivery {
  deliverySeq += 1;
  const request: OutgoingRequest = {
    url: 'https://receiver.example/hook',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"n":${deliverySeq}}`,
  };
  return {
    id: `msg_test_${process.pid}_${Date.now()}_${deliverySeq}`,
    webhookId,
    type: 'pretix.event.order.paid',
    event: 'democon',
    request,
    ...overrides,
  };
}

function attemptResult(startedAt: Date, overrides: Partial<AttemptResult> = {}): AttemptResult {
  return {
    startedAt,
    durationMs: 12,
    status: 200,
    ok: true,
    error: null,
    responseBody: 'ok',
    responseHeaders: { 'content-type': 'text/plain' },
    ...overrides,
  };
}

const at = (ms: number) => new Date(T0.getTime() + ms);

/**
 * The store conformance suite: every promise of the {@link Store} contract as vitest tests.
 * Memory, PostgreSQL and PGlite stores run it; so can your own adapter.
 *
 * @example
 * ```ts
 * // my-store.test.ts
 * import { storeConformance } from 'hookline/testing/conformance';
 * storeConformance({ name: 'mysql', createStore: () => mysqlStore({ pool }) });
 * ```
 */
export function storeConformance(options: StoreConformanceOptions): void {
  const withStore = (run: (store: Store) => Promise<void>) => async () => {
    const store = await options.createStore();
    try {
      await run(store);
    } finally {
      await (options.destroyStore ? options.destroyStore(store) : store.close?.());
    }
  };

  describe(`store conformance: ${options.name}`, () => {
    describe('webhooks', () => {
      it(
        'assigns positive, increasing ids across scopes',
        withStore(async (store) => {
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
        withStore(async (store) => {
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
        withStore(async (store) => {
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
        withStore(async (store) => {
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
        withStore(async (store) => {
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
        withStore(async (store) => {
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
        withStore(async (store) => {
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
        'lets exactly one of many racing inserts with the same key win',
        withStore(async (store) => {
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
        'rejects an update to a key another webhook of the scope has',
        withStore(async (store) => {
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
        withStore(async (store) => {
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
        withStore(async (store) => {
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

      it(
        'bumps the webhook version of a scope on every webhook write, and only then (when it keeps one)',
        withStore(async (store) => {
          const version = store.webhooksVersion?.bind(store);
          if (!version) return; // optional: registries then cache until invalidate()
          expect(await version({ scope: 'a' })).toBe('0');
          const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
          expect(await version({ scope: 'a' })).toBe('1');
          await store.updateWebhook({ scope: 'a', id: hook.id, changes: { comment: 'x' }, now: T1 });
          expect(await version({ scope: 'a' })).toBe('2');
          const d = newDelivery(hook.id);
          await store.enqueue({ scope: 'a', notificationId: 'n', deliveries: [d], now: T0 });
          const [claim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: T1 });
          await store.recordAttempt({
            deliveryId: d.id,
            leaseToken: claim!.leaseToken,
            attempt: attemptResult(T1, { ok: false, status: 500, error: 'HTTP 500' }),
            outcome: { state: 'failed' },
            now: T1,
          });
          expect(await version({ scope: 'a' })).toBe('2');
          expect(await version({ scope: 'b' })).toBe('0');
          await store.deleteWebhook({ scope: 'a', id: hook.id });
          expect(await version({ scope: 'a' })).toBe('3');
          await store.deleteWebhook({ scope: 'a', id: hook.id });
          expect(await version({ scope: 'a' })).toBe('3');
        }),
      );

      it(
        'deletes within the scope and reports whether anything was deleted',
        withStore(async (store) => {
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

    describe('outbox', () => {
      const setup = async (store: Store, scope = 'acme') => {
        const hook = await store.insertWebhook({ scope, fields: webhookFields(), now: T0 });
        return hook.id;
      };

      it(
        'enqueues pending deliveries due now and lists them newest first, per scope',
        withStore(async (store) => {
          const webhookId = await setup(store);
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
        withStore(async (store) => {
          const webhookId = await setup(store);
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
        withStore(async (store) => {
          const webhookId = await setup(store);
          const other = await setup(store, 'other');
          const first = [newDelivery(webhookId)];
          await store.enqueue({ scope: 'acme', notificationId: 'same', deliveries: first, now: T0 });
          const again = await store.enqueue({
            scope: 'acme',
            notificationId: 'same',
            deliveries: [newDelivery(webhookId)],
            now: T1,
          });
          expect(again).toEqual({ created: false, deliveryIds: [first[0]!.id] });
          expect(
            (await store.listDeliveries({ scope: 'acme', webhookId, offset: 0, limit: null })).count,
          ).toBe(1);
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
        'claims only due deliveries, oldest first, up to the limit, under a lease',
        withStore(async (store) => {
          const webhookId = await setup(store);
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
        withStore(async (store) => {
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
        'records a batch of attempts like one call each, results in input order',
        withStore(async (store) => {
          const webhookId = await setup(store);
          const batch = [newDelivery(webhookId), newDelivery(webhookId), newDelivery(webhookId)];
          await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: batch, now: at(0) });
          const claims = await store.claimDue({ limit: 3, leaseMs: 60_000, now: at(0) });
          const token = (id: string) => claims.find((c) => c.id === id)!.leaseToken;
          const results = await store.recordAttempts({
            items: [
              {
                deliveryId: batch[2]!.id,
                leaseToken: token(batch[2]!.id),
                attempt: attemptResult(at(0)),
                outcome: { state: 'succeeded' },
                now: at(1),
              },
              {
                deliveryId: batch[0]!.id,
                leaseToken: 'stale',
                attempt: attemptResult(at(0), { ok: false, status: 500, error: 'HTTP 500' }),
                outcome: { state: 'failed' },
                now: at(1),
              },
              {
                deliveryId: batch[1]!.id,
                leaseToken: token(batch[1]!.id),
                attempt: attemptResult(at(0), { ok: false, status: 503, error: 'HTTP 503' }),
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
        'never hands one delivery to two concurrent claimers while the lease lives',
        withStore(async (store) => {
          const webhookId = await setup(store);
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
        'records attempts and moves the delivery: retry later, then succeed',
        withStore(async (store) => {
          const webhookId = await setup(store);
          const d = newDelivery(webhookId);
          await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [d], now: at(0) });
          const [claim] = await store.claimDue({ limit: 1, leaseMs: 30_000, now: at(0) });
          const failed = await store.recordAttempt({
            deliveryId: d.id,
            leaseToken: claim!.leaseToken,
            attempt: attemptResult(at(0), {
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
          const ok = await store.recordAttempt({
            deliveryId: d.id,
            leaseToken: retry!.leaseToken,
            attempt: attemptResult(at(5_000)),
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
        'counts failed deliveries in the webhook health and resets on success',
        withStore(async (store) => {
          const webhookId = await setup(store);
          for (const [i, n] of ['x', 'y'].entries()) {
            const d = newDelivery(webhookId);
            await store.enqueue({ scope: 'acme', notificationId: n, deliveries: [d], now: at(i) });
            const [claim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(i) });
            const result = await store.recordAttempt({
              deliveryId: d.id,
              leaseToken: claim!.leaseToken,
              attempt: attemptResult(at(i), { status: 0, ok: false, error: 'connect ECONNREFUSED' }),
              outcome: { state: 'failed' },
              now: at(i),
            });
            expect(result.health).toEqual({ failingSince: at(0), consecutiveFailures: i + 1 });
          }
          const webhook = await store.getWebhook({ scope: 'acme', id: webhookId });
          expect(webhook).toMatchObject({ consecutiveFailures: 2, failingSince: at(0) });
        }),
      );

      it(
        'loses no health update when concurrent batches fail deliveries of one webhook',
        withStore(async (store) => {
          const webhookId = await setup(store);
          const batch = Array.from({ length: 12 }, () => newDelivery(webhookId));
          await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: batch, now: at(0) });
          const claims = await store.claimDue({ limit: 12, leaseMs: 60_000, now: at(0) });
          const item = (c: (typeof claims)[number]) => ({
            deliveryId: c.id,
            leaseToken: c.leaseToken,
            attempt: attemptResult(at(0), { ok: false, status: 500, error: 'HTTP 500' }),
            outcome: { state: 'failed' as const },
            now: at(1),
          });
          await Promise.all([
            store.recordAttempts({ items: claims.slice(0, 4).map(item) }),
            store.recordAttempts({ items: claims.slice(4, 8).map(item) }),
            ...claims.slice(8).map((c) => store.recordAttempt(item(c))),
          ]);
          const webhook = await store.getWebhook({ scope: 'acme', id: webhookId });
          expect(webhook).toMatchObject({ consecutiveFailures: 12, failingSince: at(0) });
        }),
      );

      it(
        'records but does not apply the outcome of a worker whose lease was taken over',
        withStore(async (store) => {
          const webhookId = await setup(store);
          const d = newDelivery(webhookId);
          await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [d], now: at(0) });
          const [stale] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(0) });
          const [fresh] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(2000) });
          expect(fresh?.id).toBe(d.id);
          const late = await store.recordAttempt({
            deliveryId: d.id,
            leaseToken: stale!.leaseToken,
            attempt: attemptResult(at(0), { status: 500, ok: false, error: 'late' }),
            outcome: { state: 'failed' },
            now: at(2100),
          });
          expect(late.applied).toBe(false);
          expect(await store.getDelivery({ scope: 'acme', id: d.id })).toMatchObject({
            state: 'pending',
            attemptCount: 0,
          });
          const ok = await store.recordAttempt({
            deliveryId: d.id,
            leaseToken: fresh!.leaseToken,
            attempt: attemptResult(at(2000)),
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
        withStore(async (store) => {
          const webhookId = await setup(store);
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
        'redelivers a finished delivery as a new series and refuses a pending one',
        withStore(async (store) => {
          const webhookId = await setup(store);
          const d = newDelivery(webhookId);
          await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [d], now: at(0) });
          await expect(store.redeliver({ scope: 'acme', id: d.id, now: at(1) })).rejects.toBeInstanceOf(
            ConflictError,
          );
          const [claim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(0) });
          await store.recordAttempt({
            deliveryId: d.id,
            leaseToken: claim!.leaseToken,
            attempt: attemptResult(at(0), { status: 410, ok: false, error: 'HTTP 410' }),
            outcome: { state: 'failed' },
            now: at(1),
          });
          expect(await store.redeliver({ scope: 'other', id: d.id, now: at(2) })).toBeNull();
          expect(await store.redeliver({ scope: 'acme', id: 'msg_missing', now: at(2) })).toBeNull();
          const again = await store.redeliver({ scope: 'acme', id: d.id, now: at(10) });
          expect(again).toMatchObject({ id: d.id, state: 'pending', attemptCount: 0 });
          expect(again?.nextAttemptAt?.toISOString()).toBe(at(10).toISOString());
          const [reclaim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(10) });
          await store.recordAttempt({
            deliveryId: d.id,
            leaseToken: reclaim!.leaseToken,
            attempt: attemptResult(at(10)),
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
        withStore(async (store) => {
          const webhookId = await setup(store);
          const otherHook = await setup(store);
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
        'never adds an attempt to a canceled delivery',
        withStore(async (store) => {
          const webhookId = await setup(store);
          const d = newDelivery(webhookId);
          await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [d], now: at(0) });
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
                attempt: attemptResult(at(600)),
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

      it(
        'tells its watchers of every webhook update and delete before the write resolves (when it has watch)',
        withStore(async (store) => {
          if (!store.watch) return; // optional: workers then read a parked claim's webhook again
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
            expect(await signalsOf(() => store.deleteWebhook({ scope: 'acme', id: hook.id }))).toContainEqual(
              {
                type: 'webhook',
                scope: 'acme',
                webhookId: hook.id,
                enabled: null,
              },
            );
          } finally {
            await stop();
          }
        }),
      );

      it(
        'purges attempts older than a cut-off',
        withStore(async (store) => {
          const webhookId = await setup(store);
          const d = newDelivery(webhookId);
          await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [d], now: at(0) });
          for (const t of [0, 10_000, 20_000]) {
            const [claim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(t) });
            await store.recordAttempt({
              deliveryId: d.id,
              leaseToken: claim!.leaseToken,
              attempt: attemptResult(at(t), { ok: false, status: 500, error: 'HTTP 500' }),
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
        withStore(async (store) => {
          const webhookId = await setup(store);
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
  });
}
