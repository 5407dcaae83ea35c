/**
 * Conformance part "ordering": ordered lines (`NewDelivery.ordered`, webhooks with
 * `ordering: 'fifo'`). Only a line's head is claimed, at most one claim per line is alive, a
 * head waiting for its retry holds its line, a failed head moves the line on or pauses it, a
 * redelivery joins the back, and disabling a webhook ends its lines. Every store must pass it;
 * `deliveryLine` is optional.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../model.js';
import type { ClaimedDelivery, NewDelivery, Store } from '../../stores/types.js';
import { type ConformanceContext, optionalCase } from './context.js';
import { at, attemptData, newDelivery, recordOne, T0, webhookFields } from './fixtures.js';

/** Inserts a webhook with `ordering: 'fifo'` in `scope` (default `acme`) and returns its id. */
async function fifoHook(store: Store, scope = 'acme'): Promise<number> {
  const hook = await store.insertWebhook({ scope, fields: webhookFields({ ordering: 'fifo' }), now: T0 });
  return hook.id;
}

/** An ordered delivery of `webhookId`'s line `key` (`null`: the whole-webhook line). */
function ordered(webhookId: number, key: string | null = null): NewDelivery {
  return newDelivery(webhookId, { ordered: true, orderingKey: key });
}

let notificationSeq = 0;

/** Enqueues `deliveries` as one new notification of `scope` at `now`, in their order. */
async function emit(store: Store, deliveries: NewDelivery[], now: Date, scope = 'acme'): Promise<void> {
  notificationSeq += 1;
  await store.enqueue({ scope, notificationId: `ord-${notificationSeq}`, deliveries, now });
}

/** The ids `claimDue` hands out at `now` (lease one minute), sorted. */
async function claimIds(store: Store, now: Date, limit = 50): Promise<string[]> {
  const claims = await store.claimDue({ limit, leaseMs: 60_000, now });
  return claims.map((c) => c.id).sort();
}

/** Claims at `now` and returns the claim of `id` (failing when it is not among them). */
async function claimOf(store: Store, id: string, now: Date): Promise<ClaimedDelivery> {
  const claims = await store.claimDue({ limit: 50, leaseMs: 60_000, now });
  const claim = claims.find((c) => c.id === id);
  expect(claim, `expected ${id} among the claims ${JSON.stringify(claims.map((c) => c.id))}`).toBeDefined();
  return claim as ClaimedDelivery;
}

/** Records a successful attempt of `claim`, started and recorded at `now`. */
async function succeed(store: Store, claim: ClaimedDelivery, now: Date): Promise<void> {
  const result = await recordOne(store, {
    deliveryId: claim.id,
    leaseToken: claim.leaseToken,
    attempt: attemptData(now),
    outcome: { state: 'succeeded' },
    now,
  });
  expect(result.applied).toBe(true);
}

/** Records a failed attempt of `claim` (HTTP 500) that ends it `failed`, at `now`; `pauseLine` as given. */
async function failForGood(
  store: Store,
  claim: ClaimedDelivery,
  now: Date,
  pauseLine = false,
): Promise<void> {
  const result = await recordOne(store, {
    deliveryId: claim.id,
    leaseToken: claim.leaseToken,
    attempt: attemptData(now, { ok: false, status: 500, error: 'HTTP 500' }),
    outcome: { state: 'failed' },
    now,
    ...(pauseLine ? { pauseLine } : {}),
  });
  expect(result.applied).toBe(true);
}

/** The delivery `id` of scope `acme` (failing when there is none). */
async function read(store: Store, id: string, scope = 'acme'): Promise<Delivery> {
  const delivery = await store.getDelivery({ scope, id });
  expect(delivery, `delivery ${id}`).not.toBeNull();
  return delivery as Delivery;
}

/**
 * Registers the `ordering` cases.
 *
 * @example
 * ```ts
 * orderingCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function orderingCases(ctx: ConformanceContext): void {
  describe('ordering (ordered lines)', () => {
    it(
      'stores the ordering fields of webhooks and deliveries',
      ctx.withStore(async (store) => {
        const plain = await store.insertWebhook({ scope: 'acme', fields: webhookFields(), now: T0 });
        expect(plain).toMatchObject({ ordering: 'none', orderingOnFailure: 'continue' });
        const fifo = await store.insertWebhook({
          scope: 'acme',
          fields: webhookFields({ ordering: 'fifo', orderingOnFailure: 'pause' }),
          now: T0,
        });
        expect(await store.getWebhook({ scope: 'acme', id: fifo.id })).toMatchObject({
          ordering: 'fifo',
          orderingOnFailure: 'pause',
        });
        const updated = await store.updateWebhook({
          scope: 'acme',
          id: fifo.id,
          changes: { orderingOnFailure: 'continue' },
          now: at(1),
        });
        expect(updated).toMatchObject({ ordering: 'fifo', orderingOnFailure: 'continue' });
        const listed = await store.listWebhooks({ scope: 'acme', offset: 0, limit: null });
        expect(listed.items.map((w) => w.ordering)).toEqual(['none', 'fifo']);

        const keyed = ordered(fifo.id, 'order-1');
        const whole = ordered(fifo.id);
        const loose = newDelivery(plain.id, { orderingKey: 'order-1' });
        await emit(store, [keyed, whole, loose], T0);
        expect(await read(store, keyed.id)).toMatchObject({
          ordered: true,
          orderingKey: 'order-1',
          pausesLine: false,
        });
        expect(await read(store, whole.id)).toMatchObject({
          ordered: true,
          orderingKey: null,
          pausesLine: false,
        });
        // The key is stored only on ordered deliveries.
        expect(await read(store, loose.id)).toMatchObject({
          ordered: false,
          orderingKey: null,
          pausesLine: false,
        });
        const claims = await store.claimDue({ limit: 10, leaseMs: 60_000, now: T0 });
        expect(claims.find((c) => c.id === keyed.id)).toMatchObject({
          ordered: true,
          orderingKey: 'order-1',
        });
        expect(claims.find((c) => c.id === keyed.id)?.webhook).toMatchObject({ ordering: 'fifo' });
      }),
    );

    it(
      'hands out only the head of a line; the others wait with nextAttemptAt null',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const [a, b, c] = [ordered(hook), ordered(hook), ordered(hook)];
        await emit(store, [a!], at(0));
        await emit(store, [b!], at(10));
        await emit(store, [c!], at(20));
        expect(await read(store, a!.id)).toMatchObject({ state: 'pending', nextAttemptAt: at(0) });
        expect(await read(store, b!.id)).toMatchObject({ state: 'pending', nextAttemptAt: null });
        expect(await read(store, c!.id)).toMatchObject({ state: 'pending', nextAttemptAt: null });
        const head = await claimOf(store, a!.id, at(100));
        expect(await claimIds(store, at(200))).toEqual([]);
        await succeed(store, head, at(300));
        expect(await read(store, b!.id)).toMatchObject({ state: 'pending', nextAttemptAt: at(300) });
        expect(await read(store, c!.id)).toMatchObject({ nextAttemptAt: null });
        expect(await claimIds(store, at(299))).toEqual([]);
        const second = await claimOf(store, b!.id, at(300));
        expect(await claimIds(store, at(400))).toEqual([]);
        await succeed(store, second, at(500));
        expect(await claimIds(store, at(500))).toEqual([c!.id]);
      }),
    );

    it(
      'keeps the order of one enqueue call, and of enqueueMany items',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const [a, b] = [ordered(hook, 'k'), ordered(hook, 'k')];
        await emit(store, [a!, b!], at(0));
        expect(await read(store, b!.id)).toMatchObject({ nextAttemptAt: null });
        const first = await claimOf(store, a!.id, at(0));
        expect(await claimIds(store, at(1))).toEqual([]);
        await succeed(store, first, at(2));
        expect(await claimIds(store, at(2))).toEqual([b!.id]);
        if (store.enqueueMany) {
          const [c, d] = [ordered(hook, 'm'), ordered(hook, 'm')];
          await store.enqueueMany({
            items: [
              { scope: 'acme', notificationId: 'many-1', deliveries: [c!] },
              { scope: 'acme', notificationId: 'many-2', deliveries: [d!] },
            ],
            now: at(3),
          });
          expect(await read(store, d!.id)).toMatchObject({ nextAttemptAt: null });
          expect(await claimIds(store, at(3))).toEqual([c!.id]);
        }
      }),
    );

    it(
      'runs lines of different keys, webhooks and scopes in parallel, and leaves unordered deliveries alone',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const other = await fifoHook(store);
        const elsewhere = await fifoHook(store, 'other');
        const plain = (await store.insertWebhook({ scope: 'acme', fields: webhookFields(), now: T0 })).id;
        const k1 = [ordered(hook, 'k1'), ordered(hook, 'k1')];
        const k2 = ordered(hook, 'k2');
        const whole = ordered(hook);
        const sameKeyOtherHook = ordered(other, 'k1');
        const sameKeyOtherScope = ordered(elsewhere, 'k1');
        const loose = [newDelivery(plain), newDelivery(plain)];
        await emit(store, [k1[0]!, k2, whole, sameKeyOtherHook, ...loose], at(0));
        await emit(store, [k1[1]!], at(1));
        await emit(store, [sameKeyOtherScope], at(1), 'other');
        const heads = [k1[0]!, k2, whole, sameKeyOtherHook, sameKeyOtherScope, ...loose]
          .map((d) => d.id)
          .sort();
        expect(await claimIds(store, at(5))).toEqual(heads);
        expect(await read(store, k1[1]!.id)).toMatchObject({ state: 'pending', nextAttemptAt: null });
      }),
    );

    it(
      'holds the line while its head waits for a retry (head-of-line blocking)',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const [a, b] = [ordered(hook, 'k'), ordered(hook, 'k')];
        await emit(store, [a!], at(0));
        await emit(store, [b!], at(1));
        const head = await claimOf(store, a!.id, at(10));
        const retry = await recordOne(store, {
          deliveryId: a!.id,
          leaseToken: head.leaseToken,
          attempt: attemptData(at(10), { ok: false, status: 503, error: 'HTTP 503' }),
          outcome: { state: 'pending', nextAttemptAt: at(60_000) },
          now: at(20),
        });
        expect(retry.applied).toBe(true);
        expect(await claimIds(store, at(30_000))).toEqual([]);
        expect(await read(store, b!.id)).toMatchObject({ state: 'pending', nextAttemptAt: null });
        const again = await claimOf(store, a!.id, at(60_000));
        expect(again.attemptCount).toBe(1);
        await succeed(store, again, at(60_100));
        expect(await claimIds(store, at(60_100))).toEqual([b!.id]);
      }),
    );

    it(
      'moves the line on when its head fails for good',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const [a, b] = [ordered(hook), ordered(hook)];
        await emit(store, [a!], at(0));
        await emit(store, [b!], at(1));
        const head = await claimOf(store, a!.id, at(10));
        await failForGood(store, head, at(20));
        expect(await read(store, a!.id)).toMatchObject({ state: 'failed', pausesLine: false });
        expect(await read(store, b!.id)).toMatchObject({ state: 'pending', nextAttemptAt: at(20) });
        expect(await claimIds(store, at(20))).toEqual([b!.id]);
      }),
    );

    it(
      'pauses the line behind a head that failed with pauseLine, until it is redelivered in its place',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const [a, b] = [ordered(hook, 'k'), ordered(hook, 'k')];
        await emit(store, [a!], at(0));
        await emit(store, [b!], at(1));
        const head = await claimOf(store, a!.id, at(10));
        await failForGood(store, head, at(20), true);
        expect(await read(store, a!.id)).toMatchObject({
          state: 'failed',
          pausesLine: true,
          nextAttemptAt: null,
        });
        expect(await read(store, b!.id)).toMatchObject({ state: 'pending', nextAttemptAt: null });
        expect(await claimIds(store, at(3_600_000))).toEqual([]);
        // A notification emitted while the line is paused waits too.
        const c = ordered(hook, 'k');
        await emit(store, [c], at(3_600_000));
        expect(await read(store, c.id)).toMatchObject({ state: 'pending', nextAttemptAt: null });
        expect(await claimIds(store, at(3_600_001))).toEqual([]);
        // Another line of the same webhook is not paused.
        const free = ordered(hook, 'free');
        await emit(store, [free], at(3_600_000));
        expect(await claimIds(store, at(3_600_001))).toEqual([free.id]);

        const again = await store.redeliver({ scope: 'acme', id: a!.id, now: at(4_000_000) });
        expect(again).toMatchObject({
          state: 'pending',
          pausesLine: false,
          nextAttemptAt: at(4_000_000),
          attemptCount: 0,
        });
        const retried = await claimOf(store, a!.id, at(4_000_000));
        expect(await claimIds(store, at(4_000_001))).toEqual([]);
        await succeed(store, retried, at(4_000_010));
        const second = await claimOf(store, b!.id, at(4_000_010));
        await succeed(store, second, at(4_000_020));
        expect(await claimIds(store, at(4_000_020))).toEqual([c.id]);
      }),
    );

    it(
      'puts a redelivered delivery at the back of its line, due at once only when the line is empty',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const [a, b, c] = [ordered(hook), ordered(hook), ordered(hook)];
        await emit(store, [a!], at(0));
        await emit(store, [b!], at(1));
        await emit(store, [c!], at(2));
        await succeed(store, await claimOf(store, a!.id, at(10)), at(11));
        const back = await store.redeliver({ scope: 'acme', id: a!.id, now: at(12) });
        expect(back).toMatchObject({ state: 'pending', attemptCount: 0, nextAttemptAt: null });
        const order: string[] = [];
        for (let step = 0; step < 3; step += 1) {
          const now = at(100 * (step + 1));
          const claims = await store.claimDue({ limit: 10, leaseMs: 60_000, now });
          expect(claims).toHaveLength(1);
          order.push(claims[0]!.id);
          await succeed(store, claims[0]!, now);
        }
        expect(order).toEqual([b!.id, c!.id, a!.id]);
        expect(await claimIds(store, at(1000))).toEqual([]);
        // The line is empty now: a redelivery is due at once.
        expect(await store.redeliver({ scope: 'acme', id: b!.id, now: at(2000) })).toMatchObject({
          nextAttemptAt: at(2000),
        });
        expect(await claimIds(store, at(2000))).toEqual([b!.id]);
      }),
    );

    it(
      'claims the head again, and only the head, once its lease has expired or was released',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const [a, b] = [ordered(hook, 'k'), ordered(hook, 'k')];
        await emit(store, [a!, b!], at(0));
        const first = await store.claimDue({ limit: 10, leaseMs: 1000, now: at(0) });
        expect(first.map((c) => c.id)).toEqual([a!.id]);
        expect(await claimIds(store, at(999))).toEqual([]);
        const taken = await store.claimDue({ limit: 10, leaseMs: 1000, now: at(1000) });
        expect(taken.map((c) => c.id)).toEqual([a!.id]);
        expect(taken[0]!.leaseToken).not.toBe(first[0]!.leaseToken);
        expect(
          await store.releaseClaim({ deliveryId: a!.id, leaseToken: taken[0]!.leaseToken, now: at(1500) }),
        ).toBe(true);
        expect(await claimIds(store, at(1500))).toEqual([a!.id]);
      }),
    );

    it(
      'does not pause the line of a webhook disabled while its head was in flight',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const [a, b] = [ordered(hook, 'k'), ordered(hook, 'k')];
        await emit(store, [a!, b!], at(0));
        const head = await claimOf(store, a!.id, at(0));
        await store.updateWebhook({
          scope: 'acme',
          id: hook,
          changes: { enabled: false, disabledReason: 'gone' },
          now: at(1),
        });
        expect(
          await store.cancelPending({ scope: 'acme', webhookId: hook, reason: 'disabled', now: at(2) }),
        ).toBe(1);
        await failForGood(store, head, at(3), true);
        expect(await read(store, a!.id)).toMatchObject({ state: 'failed', pausesLine: false });
        await store.updateWebhook({
          scope: 'acme',
          id: hook,
          changes: { enabled: true, disabledReason: null },
          now: at(4),
        });
        const c = ordered(hook, 'k');
        await emit(store, [c], at(5));
        expect(await read(store, c.id)).toMatchObject({ nextAttemptAt: at(5) });
        expect(await claimIds(store, at(5))).toEqual([c.id]);
      }),
    );

    it(
      'moves the line on when its claimed head is canceled',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const [a, b] = [ordered(hook), ordered(hook)];
        await emit(store, [a!, b!], at(0));
        const head = await claimOf(store, a!.id, at(0));
        expect(
          await store.cancelClaimed({
            deliveryId: a!.id,
            leaseToken: head.leaseToken,
            reason: 'disabled',
            now: at(5),
          }),
        ).toBe(true);
        expect(await read(store, b!.id)).toMatchObject({ nextAttemptAt: at(5) });
        expect(await claimIds(store, at(5))).toEqual([b!.id]);
      }),
    );

    it(
      'cancels the lines of a webhook with cancelPending and ends their pause',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const [a, b, c] = [ordered(hook, 'k'), ordered(hook, 'k'), ordered(hook, 'k')];
        await emit(store, [a!, b!, c!], at(0));
        const head = await claimOf(store, a!.id, at(0));
        await failForGood(store, head, at(1), true);
        expect(
          await store.cancelPending({ scope: 'acme', webhookId: hook, reason: 'disabled', now: at(2) }),
        ).toBe(2);
        expect(await read(store, b!.id)).toMatchObject({ state: 'canceled', nextAttemptAt: null });
        expect(await read(store, a!.id)).toMatchObject({ state: 'failed', pausesLine: false });
        // A new line starts fresh.
        const d = ordered(hook, 'k');
        await emit(store, [d], at(3));
        expect(await read(store, d.id)).toMatchObject({ nextAttemptAt: at(3) });
        expect(await claimIds(store, at(3))).toEqual([d.id]);
      }),
    );

    it(
      'never holds two live claims of one line, with concurrent claimers, and hands each line out in order',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
        const lines = new Map<string, string[]>();
        for (let round = 0; round < 4; round += 1) {
          for (const key of keys) {
            const d = ordered(hook, key);
            await emit(store, [d], at(round));
            lines.set(key, [...(lines.get(key) ?? []), d.id]);
          }
        }
        const keyOf = new Map<string, string>();
        for (const [key, ids] of lines) for (const id of ids) keyOf.set(id, key);
        const seen = new Map<string, string[]>();
        for (let round = 0; round < 4; round += 1) {
          const now = at(1000 * (round + 1));
          const batches = await Promise.all(
            Array.from({ length: 8 }, () => store.claimDue({ limit: 3, leaseMs: 60_000, now })),
          );
          const claims = batches.flat();
          const perLine = new Map<string, number>();
          for (const claim of claims) {
            const key = keyOf.get(claim.id) as string;
            perLine.set(key, (perLine.get(key) ?? 0) + 1);
            seen.set(key, [...(seen.get(key) ?? []), claim.id]);
          }
          expect([...perLine.values()].every((n) => n === 1)).toBe(true);
          expect(perLine.size).toBe(keys.length);
          await Promise.all(claims.map((claim) => succeed(store, claim, now)));
        }
        expect(seen).toEqual(lines);
      }),
    );

    it(
      'counts waiting deliveries as pending, neither due nor in flight',
      ctx.withStore(async (store) => {
        const hook = await fifoHook(store);
        await emit(store, [ordered(hook), ordered(hook), ordered(hook)], at(0));
        expect(await store.outboxSummary({ now: at(0) })).toEqual({
          due: 1,
          pending: 3,
          nextAttemptAt: at(0),
        });
        await store.claimDue({ limit: 10, leaseMs: 60_000, now: at(0) });
        expect(await store.outboxSummary({ now: at(1) })).toEqual({
          due: 0,
          pending: 3,
          nextAttemptAt: at(0),
        });
        if (store.outboxStats) {
          expect(await store.outboxStats({ now: at(1) })).toMatchObject({ pending: 3, due: 0, inFlight: 1 });
        }
      }),
    );

    it(
      'takes a canceled delivery out of its line (cancelDelivery)',
      ctx.withStore(async (store) => {
        if (!store.cancelDelivery) return;
        const hook = await fifoHook(store);
        const [a, b, c] = [ordered(hook), ordered(hook), ordered(hook)];
        await emit(store, [a!, b!, c!], at(0));
        await store.cancelDelivery({ scope: 'acme', id: b!.id, reason: 'not needed', now: at(1) });
        await store.cancelDelivery({ scope: 'acme', id: a!.id, reason: 'not needed', now: at(2) });
        expect(await read(store, c!.id)).toMatchObject({ state: 'pending', nextAttemptAt: at(2) });
        expect(await claimIds(store, at(2))).toEqual([c!.id]);
      }),
    );

    it(
      'queues recovered ordered deliveries at the back of their lines (recoverDeliveries)',
      ctx.withStore(async (store) => {
        if (!store.recoverDeliveries) return;
        const hook = await fifoHook(store);
        const [a, b] = [ordered(hook), ordered(hook)];
        await emit(store, [a!, b!], at(0));
        const head = await claimOf(store, a!.id, at(0));
        await failForGood(store, head, at(1));
        const result = await store.recoverDeliveries({
          scope: 'acme',
          since: at(0),
          until: null,
          webhookId: null,
          types: null,
          states: ['failed'],
          now: at(5),
          cursor: null,
          limit: 100,
          dryRun: false,
        });
        expect(result).toMatchObject({ matched: 1, queued: 1 });
        expect(await read(store, a!.id)).toMatchObject({ state: 'pending', nextAttemptAt: null });
        const second = await claimOf(store, b!.id, at(5));
        expect(await claimIds(store, at(6))).toEqual([]);
        await succeed(store, second, at(7));
        expect(await claimIds(store, at(7))).toEqual([a!.id]);
      }),
    );

    optionalCase(
      ctx,
      'deliveryLine',
      'says what a waiting delivery waits for and how many are ahead (deliveryLine)',
      async (store) => {
        const hook = await fifoHook(store);
        const [a, b, c] = [ordered(hook, 'k'), ordered(hook, 'k'), ordered(hook, 'k')];
        const loose = newDelivery(hook);
        await emit(store, [a!, b!, c!, loose], at(0));
        expect(await store.deliveryLine({ scope: 'acme', id: a!.id })).toEqual({ ahead: 0, blockedBy: null });
        const line = await store.deliveryLine({ scope: 'acme', id: c!.id });
        expect(line?.ahead).toBe(2);
        expect(line?.blockedBy?.id).toBe(a!.id);
        expect(await store.deliveryLine({ scope: 'acme', id: loose.id })).toBeNull();
        expect(await store.deliveryLine({ scope: 'other', id: c!.id })).toBeNull();
        expect(await store.deliveryLine({ scope: 'acme', id: 'msg_missing' })).toBeNull();
        const head = await claimOf(store, a!.id, at(0));
        await failForGood(store, head, at(1), true);
        expect(await store.deliveryLine({ scope: 'acme', id: a!.id })).toBeNull();
        const paused = await store.deliveryLine({ scope: 'acme', id: b!.id });
        expect(paused).toMatchObject({ ahead: 1, blockedBy: { id: a!.id, pausesLine: true } });
        expect((await store.deliveryLine({ scope: 'acme', id: c!.id }))?.ahead).toBe(2);
      },
    );
  });
}
