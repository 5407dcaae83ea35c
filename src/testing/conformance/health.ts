/**
 * Conformance part "health": the webhook health (`failingSince`, `consecutiveFailures`) that
 * `recordAttempts` keeps beside each attempt, and from which the worker decides to disable a
 * failing webhook (`shouldAutoDisable`, a worker rule with no store part).
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { RecordAttemptInput } from '../../stores/types.js';
import type { ConformanceContext } from './context.js';
import { at, attemptData, enqueueOne, insertHook, newDelivery, recordOne } from './fixtures.js';

/**
 * Registers the `health` cases. They pin `healthAfterAttempt` of `stores/rules.ts` (a success
 * clears the health, a failure sets `failingSince`, a failed delivery under the current lease
 * counts one more consecutive failure) and `mayRecordAttempt` (an attempt dropped for a
 * canceled delivery changes nothing). Concurrent batches are in the `concurrency` part.
 *
 * @example
 * ```ts
 * healthCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function healthCases(ctx: ConformanceContext): void {
  describe('health (rules: healthAfterAttempt, mayRecordAttempt)', () => {
    it(
      'counts failed deliveries in the webhook health and resets on success',
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        for (const [i, n] of ['x', 'y'].entries()) {
          const d = newDelivery(webhookId);
          await store.enqueue({ scope: 'acme', notificationId: n, deliveries: [d], now: at(i) });
          const [claim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(i) });
          const result = await recordOne(store, {
            deliveryId: d.id,
            leaseToken: claim!.leaseToken,
            attempt: attemptData(at(i), { status: 0, ok: false, error: 'connect ECONNREFUSED' }),
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
      'sets failingSince but counts no failed delivery for an outcome under a lease that was taken over',
      ctx.withStore(async (store) => {
        const { webhookId, delivery: d } = await enqueueOne(store);
        const [stale] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(0) });
        const [fresh] = await store.claimDue({ limit: 1, leaseMs: 1000, now: at(2000) });
        expect(fresh?.id).toBe(d.id);
        const late = await recordOne(store, {
          deliveryId: d.id,
          leaseToken: stale!.leaseToken,
          attempt: attemptData(at(0), { status: 500, ok: false, error: 'HTTP 500' }),
          outcome: { state: 'failed' },
          now: at(2100),
        });
        expect(late).toEqual({ applied: false, health: { failingSince: at(0), consecutiveFailures: 0 } });
        expect(await store.getWebhook({ scope: 'acme', id: webhookId })).toMatchObject({
          failingSince: at(0),
          consecutiveFailures: 0,
        });
      }),
    );

    it(
      "follows a batch's attempts in input order: a success clears the failures before it",
      ctx.withStore(async (store) => {
        const webhookId = await insertHook(store);
        const batch = Array.from({ length: 5 }, () => newDelivery(webhookId));
        await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: batch, now: at(0) });
        const claims = await store.claimDue({ limit: 5, leaseMs: 60_000, now: at(0) });
        const item = (
          index: number,
          attempt: RecordAttemptInput['attempt'],
          outcome: RecordAttemptInput['outcome'],
        ): RecordAttemptInput => {
          const id = batch[index]!.id;
          return {
            deliveryId: id,
            leaseToken: claims.find((c) => c.id === id)!.leaseToken,
            attempt,
            outcome,
            now: at(50),
          };
        };
        const failure = (ms: number) => attemptData(at(ms), { ok: false, status: 500, error: 'HTTP 500' });
        const first = await store.recordAttempts({
          items: [
            item(0, failure(1), { state: 'failed' }),
            item(1, attemptData(at(2)), { state: 'succeeded' }),
            item(2, failure(3), { state: 'pending', nextAttemptAt: at(5_000) }),
          ],
        });
        const afterFirst = { failingSince: at(3), consecutiveFailures: 0 };
        expect(first.at(-1)?.health).toEqual(afterFirst);
        expect(await store.getWebhook({ scope: 'acme', id: webhookId })).toMatchObject(afterFirst);
        const second = await store.recordAttempts({
          items: [
            item(3, attemptData(at(20)), { state: 'succeeded' }),
            item(4, failure(21), { state: 'failed' }),
          ],
        });
        const afterSecond = { failingSince: at(21), consecutiveFailures: 1 };
        expect(second.at(-1)?.health).toEqual(afterSecond);
        expect(await store.getWebhook({ scope: 'acme', id: webhookId })).toMatchObject(afterSecond);
      }),
    );

    it(
      'leaves the health as it was when the attempt of a canceled delivery is dropped',
      ctx.withStore(async (store) => {
        const { webhookId, delivery: d } = await enqueueOne(store);
        const [claim] = await store.claimDue({ limit: 1, leaseMs: 100, now: at(0) });
        expect(
          await store.cancelPending({ scope: 'acme', webhookId, reason: 'webhook disabled', now: at(500) }),
        ).toBe(1);
        const [late] = await store.recordAttempts({
          items: [
            {
              deliveryId: d.id,
              leaseToken: claim!.leaseToken,
              attempt: attemptData(at(600), { ok: false, status: 500, error: 'HTTP 500' }),
              outcome: { state: 'failed' },
              now: at(600),
            },
          ],
        });
        expect(late?.applied).toBe(false);
        expect(await store.getWebhook({ scope: 'acme', id: webhookId })).toMatchObject({
          failingSince: null,
          consecutiveFailures: 0,
        });
      }),
    );
  });
}
