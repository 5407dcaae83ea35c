/**
 * Conformance part "recover": the optional `Store.recoverDeliveries` (one batch of a bulk
 * recovery, behind `registry.recover()`) and `Store.cancelDelivery` (stop a pending delivery's
 * retries, behind `registry.cancel()`).
 *
 * @module
 */
import { describe, expect } from 'vitest';
import { ConflictError } from '../../errors.js';
import type {
  RecoverDeliveriesInput,
  RecoverDeliveriesResult,
  Store,
  StoreSignal,
} from '../../stores/types.js';
import { type ConformanceContext, optedOut, optionalCase, type StoreWith } from './context.js';
import { at, attemptData, insertHook, newDelivery, recordOne, T0, webhookFields } from './fixtures.js';

let notificationSeq = 0;

/**
 * Stores one delivery of `webhookId` in `scope` that failed at `finishedAt`: enqueued with a
 * render `failure`, which stores it `failed` at once (its finishing time is the enqueue's
 * `now`). Returns its id.
 */
async function failedAt(
  store: Store,
  webhookId: number,
  finishedAt: Date,
  options: { scope?: string; type?: string } = {},
): Promise<string> {
  notificationSeq += 1;
  const delivery = newDelivery(webhookId, {
    failure: 'header template produced an unsafe value',
    ...(options.type === undefined ? {} : { type: options.type }),
  });
  await store.enqueue({
    scope: options.scope ?? 'acme',
    notificationId: `recover-${notificationSeq}`,
    deliveries: [delivery],
    now: finishedAt,
  });
  return delivery.id;
}

/** The input of one batch: every delivery that failed in [since, until) of `acme`, at `now` T0+1 day. */
function batch(overrides: Partial<RecoverDeliveriesInput> = {}): RecoverDeliveriesInput {
  return {
    scope: 'acme',
    since: at(0),
    until: at(60_000),
    webhookId: null,
    types: null,
    states: ['failed'],
    now: at(86_400_000),
    cursor: null,
    limit: 500,
    dryRun: false,
    ...overrides,
  };
}

/** Runs batches until the cursor is null; returns the sums and how many batches ran. */
async function recoverAll(
  store: StoreWith<'recoverDeliveries'>,
  input: RecoverDeliveriesInput,
): Promise<Omit<RecoverDeliveriesResult, 'cursor'> & { batches: number }> {
  const total = { matched: 0, queued: 0, skipped: 0, batches: 0 };
  let cursor: string | null = null;
  do {
    const result: RecoverDeliveriesResult = await store.recoverDeliveries({ ...input, cursor });
    expect(result.matched).toBeLessThanOrEqual(input.limit);
    expect(result.queued + result.skipped).toBeLessThanOrEqual(result.matched);
    total.matched += result.matched;
    total.queued += result.queued;
    total.skipped += result.skipped;
    total.batches += 1;
    cursor = result.cursor;
    if (total.batches > 10_000) throw new Error('recoverDeliveries never ended its scan (cursor never null)');
  } while (cursor !== null);
  return total;
}

/** The states of deliveries by id, as the store has them now. */
async function statesOf(store: Store, ids: readonly string[], scope = 'acme'): Promise<string[]> {
  const states: string[] = [];
  for (const id of ids) states.push((await store.getDelivery({ scope, id }))?.state ?? 'missing');
  return states;
}

/**
 * Registers the `recover` cases, by `capabilities.recoverDeliveries` and
 * `capabilities.cancelDelivery` (see `StoreConformanceCapabilities`).
 *
 * @example
 * ```ts
 * recoverCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function recoverCases(ctx: ConformanceContext): void {
  if (!optedOut(ctx, 'recoverDeliveries')) {
    describe('recover (optional)', () => {
      optionalCase(
        ctx,
        'recoverDeliveries',
        'queues again what finished in [since, until): since included, until excluded, as redeliver does',
        async (store) => {
          const hook = await insertHook(store);
          const ids = [];
          for (const ms of [-1, 0, 30_000, 59_999, 60_000]) ids.push(await failedAt(store, hook, at(ms)));
          const now = at(86_400_000);
          const result = await store.recoverDeliveries(batch({ now }));
          expect(result).toEqual({ matched: 3, queued: 3, skipped: 0, cursor: null });
          expect(await statesOf(store, ids)).toEqual(['failed', 'pending', 'pending', 'pending', 'failed']);
          const again = await store.getDelivery({ scope: 'acme', id: ids[1] as string });
          expect(again).toMatchObject({ id: ids[1], state: 'pending', attemptCount: 0, nextAttemptAt: now });
          // Claimable at once, like a redelivered delivery.
          const claims = await store.claimDue({ limit: 10, leaseMs: 60_000, now });
          expect(claims.map((c) => c.id).sort()).toEqual([ids[1], ids[2], ids[3]].sort());
        },
      );

      optionalCase(
        ctx,
        'recoverDeliveries',
        'the range is the time a delivery failed (its last attempt), not when it was made',
        async (store) => {
          const hook = await insertHook(store);
          // Made before `since`, failed inside the range through a recorded attempt.
          const early = newDelivery(hook);
          await store.enqueue({
            scope: 'acme',
            notificationId: 'early',
            deliveries: [early],
            now: at(-3_600_000),
          });
          const [claim] = await store.claimDue({ limit: 1, leaseMs: 60_000, now: at(10_000) });
          expect(claim?.id).toBe(early.id);
          await recordOne(store, {
            deliveryId: early.id,
            leaseToken: claim?.leaseToken as string,
            attempt: attemptData(at(10_000), { ok: false, status: 500, error: 'HTTP 500' }),
            outcome: { state: 'failed' },
            now: at(10_050),
          });
          // Made inside the range, failed after `until`.
          const late = newDelivery(hook);
          await store.enqueue({ scope: 'acme', notificationId: 'late', deliveries: [late], now: at(20_000) });
          const [lateClaim] = await store.claimDue({ limit: 1, leaseMs: 600_000, now: at(20_000) });
          await recordOne(store, {
            deliveryId: late.id,
            leaseToken: lateClaim?.leaseToken as string,
            attempt: attemptData(at(70_000), { ok: false, status: 500, error: 'HTTP 500' }),
            outcome: { state: 'failed' },
            now: at(70_000),
          });
          expect(await store.recoverDeliveries(batch())).toMatchObject({ matched: 1, queued: 1 });
          expect(await statesOf(store, [early.id, late.id])).toEqual(['pending', 'failed']);
        },
      );

      optionalCase(
        ctx,
        'recoverDeliveries',
        "never sees or changes another scope's deliveries",
        async (store) => {
          const mine = await insertHook(store, 'acme');
          const theirs = await insertHook(store, 'other');
          const own = await failedAt(store, mine, at(1_000));
          const foreign = await failedAt(store, theirs, at(1_000), { scope: 'other' });
          // Even naming the other scope's webhook finds nothing in acme.
          expect(await store.recoverDeliveries(batch({ webhookId: theirs }))).toMatchObject({ matched: 0 });
          expect(await store.recoverDeliveries(batch())).toMatchObject({ matched: 1, queued: 1 });
          expect(await statesOf(store, [foreign], 'other')).toEqual(['failed']);
          expect(await statesOf(store, [own])).toEqual(['pending']);
          expect(await store.recoverDeliveries(batch({ scope: 'nobody' }))).toEqual({
            matched: 0,
            queued: 0,
            skipped: 0,
            cursor: null,
          });
        },
      );

      optionalCase(ctx, 'recoverDeliveries', 'filters by webhook and by event types', async (store) => {
        const a = await insertHook(store);
        const b = await insertHook(store);
        const aPaid = await failedAt(store, a, at(1_000), { type: 'order.paid' });
        const aMade = await failedAt(store, a, at(2_000), { type: 'order.placed' });
        const bPaid = await failedAt(store, b, at(3_000), { type: 'order.paid' });
        const bGone = await failedAt(store, b, at(4_000), { type: 'order.canceled' });
        expect(await store.recoverDeliveries(batch({ webhookId: a, types: ['order.paid'] }))).toMatchObject({
          matched: 1,
          queued: 1,
        });
        expect(await statesOf(store, [aPaid, aMade, bPaid, bGone])).toEqual([
          'pending',
          'failed',
          'failed',
          'failed',
        ]);
        expect(
          await store.recoverDeliveries(batch({ types: ['order.paid', 'order.canceled', 'never.seen'] })),
        ).toMatchObject({
          matched: 2,
          queued: 2,
        });
        expect(await statesOf(store, [aPaid, aMade, bPaid, bGone])).toEqual([
          'pending',
          'failed',
          'pending',
          'pending',
        ]);
        expect(await store.recoverDeliveries(batch({ types: [] }))).toMatchObject({ matched: 0 });
        expect(await store.recoverDeliveries(batch({ webhookId: 999_999 }))).toMatchObject({ matched: 0 });
      });

      optionalCase(
        ctx,
        'recoverDeliveries',
        'recovers only the states asked for: failed, canceled or both, never succeeded or pending',
        async (store) => {
          const hook = await insertHook(store);
          const failed = await failedAt(store, hook, at(1_000));
          const canceled = newDelivery(hook);
          await store.enqueue({ scope: 'acme', notificationId: 'c', deliveries: [canceled], now: at(2_000) });
          expect(
            await store.cancelPending({
              scope: 'acme',
              webhookId: hook,
              reason: 'webhook disabled',
              now: at(2_000),
            }),
          ).toBe(1);
          const succeeded = newDelivery(hook);
          await store.enqueue({
            scope: 'acme',
            notificationId: 's',
            deliveries: [succeeded],
            now: at(3_000),
          });
          const [claim] = await store.claimDue({ limit: 1, leaseMs: 60_000, now: at(3_000) });
          await recordOne(store, {
            deliveryId: succeeded.id,
            leaseToken: claim?.leaseToken as string,
            attempt: attemptData(at(3_000)),
            outcome: { state: 'succeeded' },
            now: at(3_000),
          });
          const pending = newDelivery(hook);
          await store.enqueue({ scope: 'acme', notificationId: 'p', deliveries: [pending], now: at(4_000) });
          const ids = [failed, canceled.id, succeeded.id, pending.id];

          expect(await store.recoverDeliveries(batch({ states: ['canceled'], dryRun: true }))).toMatchObject({
            matched: 1,
          });
          expect(await store.recoverDeliveries(batch())).toMatchObject({ matched: 1, queued: 1 });
          expect(await statesOf(store, ids)).toEqual(['pending', 'canceled', 'succeeded', 'pending']);
          const both = await store.recoverDeliveries(batch({ states: ['failed', 'canceled'] }));
          expect(both).toMatchObject({ matched: 1, queued: 1 });
          expect(await statesOf(store, ids)).toEqual(['pending', 'pending', 'succeeded', 'pending']);
        },
      );

      optionalCase(
        ctx,
        'recoverDeliveries',
        'twice in a row queues nothing new (a queued delivery is pending, no longer failed)',
        async (store) => {
          const hook = await insertHook(store);
          for (let i = 0; i < 4; i++) await failedAt(store, hook, at(i * 1_000));
          expect(await store.recoverDeliveries(batch())).toMatchObject({ matched: 4, queued: 4 });
          expect(await store.recoverDeliveries(batch())).toEqual({
            matched: 0,
            queued: 0,
            skipped: 0,
            cursor: null,
          });
          expect((await store.outboxSummary({ now: at(86_400_000) })).pending).toBe(4);
        },
      );

      optionalCase(
        ctx,
        'recoverDeliveries',
        'leaves deliveries of disabled and deleted webhooks as they are, counted as skipped',
        async (store) => {
          const live = await insertHook(store);
          const off = await store.insertWebhook({
            scope: 'acme',
            fields: webhookFields({ enabled: false }),
            now: T0,
          });
          const gone = await insertHook(store);
          const ids = [
            await failedAt(store, live, at(1_000)),
            await failedAt(store, off.id, at(2_000)),
            await failedAt(store, gone, at(3_000)),
          ];
          expect(await store.deleteWebhook({ scope: 'acme', id: gone })).toBe(true);
          expect(await store.recoverDeliveries(batch())).toMatchObject({ matched: 3, queued: 1, skipped: 2 });
          expect(await statesOf(store, ids)).toEqual(['pending', 'failed', 'failed']);
          // Enabled again, its deliveries can be recovered.
          await store.updateWebhook({ scope: 'acme', id: off.id, changes: { enabled: true }, now: T0 });
          expect(await store.recoverDeliveries(batch())).toMatchObject({ matched: 2, queued: 1, skipped: 1 });
          expect(await statesOf(store, ids)).toEqual(['pending', 'pending', 'failed']);
        },
      );

      optionalCase(ctx, 'recoverDeliveries', 'a dry run counts and changes nothing', async (store) => {
        const live = await insertHook(store);
        const off = await store.insertWebhook({
          scope: 'acme',
          fields: webhookFields({ enabled: false }),
          now: T0,
        });
        const ids = [await failedAt(store, live, at(1_000)), await failedAt(store, off.id, at(2_000))];
        const before = await store.getDelivery({ scope: 'acme', id: ids[0] as string });
        expect(await recoverAll(store, batch({ dryRun: true, limit: 1 }))).toMatchObject({
          matched: 2,
          queued: 0,
          skipped: 1,
        });
        expect(await store.getDelivery({ scope: 'acme', id: ids[0] as string })).toEqual(before);
        expect(await statesOf(store, ids)).toEqual(['failed', 'failed']);
      });

      optionalCase(
        ctx,
        'recoverDeliveries',
        'goes through a large range in batches of at most limit, each delivery once, and ends with a null cursor',
        async (store) => {
          const hook = await insertHook(store);
          const ids = new Set<string>();
          // Several finishing at the same instant: the order must still be total.
          for (let i = 0; i < 11; i++) ids.add(await failedAt(store, hook, at(1_000 + Math.floor(i / 3))));
          const dry = await recoverAll(store, batch({ limit: 3, dryRun: true }));
          expect(dry).toMatchObject({ matched: 11, queued: 0 });
          const total = await recoverAll(store, batch({ limit: 3 }));
          expect(total).toMatchObject({ matched: 11, queued: 11, skipped: 0 });
          expect(total.batches).toBeGreaterThanOrEqual(4);
          expect(new Set(await statesOf(store, [...ids]))).toEqual(new Set(['pending']));
          await expect(
            store.recoverDeliveries(batch({ cursor: 'not a cursor of this store' })),
          ).rejects.toMatchObject({
            code: 'validation_failed',
          });
        },
      );

      optionalCase(
        ctx,
        'recoverDeliveries',
        'two recoveries at once queue each delivery exactly once',
        async (store) => {
          const hook = await insertHook(store);
          const ids: string[] = [];
          for (let i = 0; i < 40; i++) ids.push(await failedAt(store, hook, at(1_000 + i)));
          const runs = await Promise.all([
            recoverAll(store, batch({ limit: 4 })),
            recoverAll(store, batch({ limit: 7 })),
            recoverAll(store, batch({ limit: 40 })),
          ]);
          expect(runs.reduce((sum, run) => sum + run.queued, 0)).toBe(40);
          expect(new Set(await statesOf(store, ids))).toEqual(new Set(['pending']));
          const claims = await store.claimDue({ limit: 100, leaseMs: 60_000, now: at(86_400_000) });
          expect(claims).toHaveLength(40);
          expect(claims.every((c) => c.attemptCount === 0)).toBe(true);
        },
      );

      optionalCase(
        ctx,
        'recoverDeliveries',
        'wakes its watchers when it queued something (when it has watch)',
        async (store) => {
          if (typeof store.watch !== 'function') return;
          const hook = await insertHook(store);
          await failedAt(store, hook, at(1_000));
          const signals: StoreSignal[] = [];
          let woken: () => void = () => {};
          const due = new Promise<void>((resolve) => {
            woken = resolve;
          });
          const stop = await store.watch((signal) => {
            signals.push(signal);
            if (signal.type === 'due') woken();
          });
          try {
            await store.recoverDeliveries(batch());
            await Promise.race([
              due,
              new Promise((_, reject) =>
                setTimeout(() => reject(new Error('no due signal within 5 s')), 5_000),
              ),
            ]);
            expect(signals.some((s) => s.type === 'due')).toBe(true);
          } finally {
            await stop();
          }
        },
      );
    });
  }

  if (!optedOut(ctx, 'cancelDelivery')) {
    describe('cancel (optional)', () => {
      optionalCase(ctx, 'cancelDelivery', "stops a pending delivery's retries", async (store) => {
        const hook = await insertHook(store);
        const delivery = newDelivery(hook);
        await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [delivery], now: at(0) });
        const canceled = await store.cancelDelivery({
          scope: 'acme',
          id: delivery.id,
          reason: 'stopped by the operator',
          now: at(5_000),
        });
        expect(canceled).toMatchObject({
          id: delivery.id,
          state: 'canceled',
          lastError: 'stopped by the operator',
          nextAttemptAt: null,
          updatedAt: at(5_000),
        });
        expect(await store.getDelivery({ scope: 'acme', id: delivery.id })).toEqual(canceled);
        expect(await store.claimDue({ limit: 10, leaseMs: 60_000, now: at(86_400_000) })).toEqual([]);
        expect((await store.outboxSummary({ now: at(86_400_000) })).pending).toBe(0);
      });

      optionalCase(
        ctx,
        'cancelDelivery',
        "cancels a delivery under a live lease; the claimer's attempt is then neither recorded nor able to move it",
        async (store) => {
          const hook = await insertHook(store);
          const delivery = newDelivery(hook);
          await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [delivery], now: at(0) });
          const [claim] = await store.claimDue({ limit: 1, leaseMs: 60_000, now: at(0) });
          expect(claim?.id).toBe(delivery.id);
          const canceled = await store.cancelDelivery({
            scope: 'acme',
            id: delivery.id,
            reason: 'stop',
            now: at(1_000),
          });
          expect(canceled?.state).toBe('canceled');
          const result = await recordOne(store, {
            deliveryId: delivery.id,
            leaseToken: claim?.leaseToken as string,
            attempt: attemptData(at(500), { ok: false, status: 503, error: 'HTTP 503' }),
            outcome: { state: 'pending', nextAttemptAt: at(60_000) },
            now: at(2_000),
          });
          expect(result.applied).toBe(false);
          expect(
            await store.releaseClaim({
              deliveryId: delivery.id,
              leaseToken: claim?.leaseToken as string,
              now: at(2_000),
            }),
          ).toBe(false);
          const after = await store.getDelivery({ scope: 'acme', id: delivery.id });
          expect(after).toMatchObject({
            state: 'canceled',
            attemptCount: 0,
            lastError: 'stop',
            nextAttemptAt: null,
          });
          expect(
            (await store.listAttempts({ scope: 'acme', deliveryId: delivery.id, offset: 0, limit: null }))
              .count,
          ).toBe(0);
          expect(await store.claimDue({ limit: 10, leaseMs: 60_000, now: at(86_400_000) })).toEqual([]);
        },
      );

      optionalCase(
        ctx,
        'cancelDelivery',
        'refuses a finished delivery with a ConflictError (field state) and changes nothing',
        async (store) => {
          const hook = await insertHook(store);
          const failed = await failedAt(store, hook, at(1_000));
          const before = await store.getDelivery({ scope: 'acme', id: failed });
          const attempt = store.cancelDelivery({ scope: 'acme', id: failed, reason: 'x', now: at(2_000) });
          await expect(attempt).rejects.toBeInstanceOf(ConflictError);
          await expect(
            store.cancelDelivery({ scope: 'acme', id: failed, reason: 'x', now: at(2_000) }),
          ).rejects.toMatchObject({ code: 'conflict', field: 'state' });
          expect(await store.getDelivery({ scope: 'acme', id: failed })).toEqual(before);
          // Canceled once, a second cancel is a conflict too.
          const pending = newDelivery(hook);
          await store.enqueue({ scope: 'acme', notificationId: 'p', deliveries: [pending], now: at(0) });
          await store.cancelDelivery({ scope: 'acme', id: pending.id, reason: 'x', now: at(1_000) });
          await expect(
            store.cancelDelivery({ scope: 'acme', id: pending.id, reason: 'y', now: at(2_000) }),
          ).rejects.toBeInstanceOf(ConflictError);
          expect((await store.getDelivery({ scope: 'acme', id: pending.id }))?.lastError).toBe('x');
        },
      );

      optionalCase(
        ctx,
        'cancelDelivery',
        "returns null for another scope's delivery or an unknown id, and leaves it alone",
        async (store) => {
          const theirs = await insertHook(store, 'other');
          const delivery = newDelivery(theirs);
          await store.enqueue({ scope: 'other', notificationId: 'n', deliveries: [delivery], now: at(0) });
          expect(
            await store.cancelDelivery({ scope: 'acme', id: delivery.id, reason: 'x', now: at(1) }),
          ).toBeNull();
          expect(
            await store.cancelDelivery({ scope: 'acme', id: 'msg_nope', reason: 'x', now: at(1) }),
          ).toBeNull();
          expect((await store.getDelivery({ scope: 'other', id: delivery.id }))?.state).toBe('pending');
        },
      );
    });
  }
}
