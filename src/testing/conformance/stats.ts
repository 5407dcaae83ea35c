/**
 * Conformance part "stats": the optional `Store.outboxStats`, the outbox's health (pending,
 * due, in flight, oldest due, failing webhooks, per scope) behind `registry.stats()`.
 *
 * @module
 */
import { describe, expect } from 'vitest';
import { FAILING_WEBHOOKS_LIMIT, type FailingWebhook, type Store } from '../../stores/types.js';
import { type ConformanceContext, optedOut, optionalCase } from './context.js';
import {
  at,
  attemptData,
  enqueueAt,
  insertHook,
  newDelivery,
  recordOne,
  T0,
  webhookFields,
} from './fixtures.js';

/** Counters of an empty outbox. */
const NOTHING = { pending: 0, due: 0, inFlight: 0, oldestDueAt: null, failingWebhookCount: 0 };

/**
 * Makes each webhook of `failures` fail once, its attempt started at `startedAt` (so that is
 * its `failingSince`): one delivery each, claimed and recorded as `failed`, all in one batch.
 * Needs an outbox with nothing else due, and leaves nothing pending.
 */
async function failAt(
  store: Store,
  failures: readonly { scope: string; webhookId: number; startedAt: Date }[],
): Promise<void> {
  const startedAt = new Map(failures.map((f) => [f.webhookId, f.startedAt]));
  for (const scope of new Set(failures.map((f) => f.scope))) {
    const deliveries = failures.filter((f) => f.scope === scope).map((f) => newDelivery(f.webhookId));
    await store.enqueue({ scope, notificationId: `fail-${scope}`, deliveries, now: T0 });
  }
  const claims = await store.claimDue({ limit: failures.length + 1, leaseMs: 60_000, now: T0 });
  expect(claims).toHaveLength(failures.length);
  await store.recordAttempts({
    items: claims.map((claim) => ({
      deliveryId: claim.id,
      leaseToken: claim.leaseToken,
      attempt: attemptData(startedAt.get(claim.webhookId) as Date, {
        ok: false,
        status: 500,
        error: 'HTTP 500',
      }),
      outcome: { state: 'failed' },
      now: T0,
    })),
  });
}

/**
 * Registers the `stats` cases, by `capabilities.outboxStats` (see `StoreConformanceCapabilities`).
 *
 * @example
 * ```ts
 * statsCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function statsCases(ctx: ConformanceContext): void {
  if (optedOut(ctx, 'outboxStats')) return; // the capabilities block says so
  describe('stats (optional)', () => {
    optionalCase(ctx, 'outboxStats', 'reports an empty outbox as zeros', async (store) => {
      expect(await store.outboxStats({ now: T0 })).toEqual({ ...NOTHING, failingWebhooks: [] });
      expect(await store.outboxStats({ now: T0, perScope: true })).toEqual({
        ...NOTHING,
        failingWebhooks: [],
        scopes: [],
      });
      const scoped = await store.outboxStats({ now: T0, scope: 'acme' });
      expect(scoped).toEqual({ ...NOTHING, failingWebhooks: [] });
      expect(scoped.scopes).toBeUndefined();
    });

    optionalCase(
      ctx,
      'outboxStats',
      'counts pending, due and in-flight deliveries and the oldest due one; finished ones not at all',
      async (store) => {
        const webhookId = await insertHook(store);
        const [a] = await enqueueAt(store, 'acme', 'a', [webhookId], at(0));
        const [b] = await enqueueAt(store, 'acme', 'b', [webhookId], at(0));
        const [c] = await enqueueAt(store, 'acme', 'c', [webhookId], at(0));
        await enqueueAt(store, 'acme', 'e', [webhookId], at(500));
        await enqueueAt(store, 'acme', 'f', [webhookId], at(5000));
        const broken = newDelivery(webhookId, { failure: 'template_render_failed: bad header' });
        await store.enqueue({ scope: 'acme', notificationId: 'broken', deliveries: [broken], now: at(0) });
        // a, b and c are claimed at 1000 (leased until 11 000): b succeeds, c is retried at 20 000
        // after a failed attempt (the webhook is failing since 1000), a stays in flight.
        const claims = await store.claimDue({ limit: 3, leaseMs: 10_000, now: at(1000) });
        expect(claims.map((claim) => claim.id).sort()).toEqual([a!.id, b!.id, c!.id].sort());
        const claimOf = (id: string) => claims.find((claim) => claim.id === id)!;
        await recordOne(store, {
          deliveryId: b!.id,
          leaseToken: claimOf(b!.id).leaseToken,
          attempt: attemptData(at(1000)),
          outcome: { state: 'succeeded' },
          now: at(1000),
        });
        await recordOne(store, {
          deliveryId: c!.id,
          leaseToken: claimOf(c!.id).leaseToken,
          attempt: attemptData(at(1000), { ok: false, status: 503, error: 'HTTP 503' }),
          outcome: { state: 'pending', nextAttemptAt: at(20_000) },
          now: at(1000),
        });
        const counts = async (t: number) => {
          const { failingWebhooks: _, ...rest } = await store.outboxStats({ now: at(t) });
          return rest;
        };
        const failing = { failingWebhookCount: 1 };
        expect(await counts(1000)).toEqual({
          pending: 4,
          due: 1,
          inFlight: 1,
          oldestDueAt: at(500),
          ...failing,
        });
        // Due at exactly now counts as due.
        expect(await counts(5000)).toEqual({
          pending: 4,
          due: 2,
          inFlight: 1,
          oldestDueAt: at(500),
          ...failing,
        });
        // A lease ending at exactly now is no longer live: a is due again, since its first due time.
        expect(await counts(11_000)).toEqual({
          pending: 4,
          due: 3,
          inFlight: 0,
          oldestDueAt: at(0),
          ...failing,
        });
        expect(await counts(20_000)).toEqual({
          pending: 4,
          due: 4,
          inFlight: 0,
          oldestDueAt: at(0),
          ...failing,
        });
        expect((await store.outboxStats({ now: at(1000) })).failingWebhooks).toEqual([
          {
            scope: 'acme',
            webhookId,
            url: webhookFields().url,
            enabled: true,
            consecutiveFailures: 0,
            failingSince: at(1000),
          },
        ]);
        // Once every pending one is claimed, nothing is due and the oldest due is null.
        await store.claimDue({ limit: 10, leaseMs: 60_000, now: at(20_000) });
        expect(await counts(20_000)).toEqual({
          pending: 4,
          due: 0,
          inFlight: 4,
          oldestDueAt: null,
          ...failing,
        });
      },
    );

    optionalCase(
      ctx,
      'outboxStats',
      `lists the ${FAILING_WEBHOOKS_LIMIT} webhooks failing longest, oldest first then by id, and counts them all`,
      async (store) => {
        const total = FAILING_WEBHOOKS_LIMIT + 3;
        const failures: { scope: string; webhookId: number; startedAt: Date }[] = [];
        for (let i = 0; i < total; i++) {
          const scope = i % 3 === 0 ? 'other' : 'acme';
          // Pairs share a failingSince, in an order unlike the ids'.
          const startedAt = at(Math.floor(((i * 37) % total) / 2) * 1000);
          failures.push({ scope, webhookId: await insertHook(store, scope), startedAt });
        }
        const healthy = await insertHook(store); // never fails, never listed
        await failAt(store, failures);
        const disabled = failures[5]!;
        await store.updateWebhook({
          scope: disabled.scope,
          id: disabled.webhookId,
          changes: { enabled: false, disabledReason: 'failing' },
          now: T0,
        });
        const expected: FailingWebhook[] = failures
          .map((f) => ({
            scope: f.scope,
            webhookId: f.webhookId,
            url: webhookFields().url,
            enabled: f !== disabled,
            consecutiveFailures: 1,
            failingSince: f.startedAt,
          }))
          .sort((x, y) => x.failingSince.getTime() - y.failingSince.getTime() || x.webhookId - y.webhookId);
        const stats = await store.outboxStats({ now: T0 });
        expect(stats.failingWebhookCount).toBe(total);
        expect(stats.failingWebhooks).toEqual(expected.slice(0, FAILING_WEBHOOKS_LIMIT));
        expect(stats.failingWebhooks.map((w) => w.webhookId)).not.toContain(healthy);
        // A success clears a webhook from the list.
        const first = expected[0]!;
        const d = newDelivery(first.webhookId);
        await store.enqueue({ scope: first.scope, notificationId: 'ok', deliveries: [d], now: T0 });
        const [claim] = await store.claimDue({ limit: 1, leaseMs: 60_000, now: T0 });
        await recordOne(store, {
          deliveryId: d.id,
          leaseToken: claim!.leaseToken,
          attempt: attemptData(T0),
          outcome: { state: 'succeeded' },
          now: T0,
        });
        const after = await store.outboxStats({ now: T0 });
        expect(after.failingWebhookCount).toBe(total - 1);
        expect(after.failingWebhooks).toEqual(expected.slice(1, FAILING_WEBHOOKS_LIMIT + 1));
      },
    );

    optionalCase(
      ctx,
      'outboxStats',
      'limits everything to the scope given: no other scope’s deliveries or webhooks',
      async (store) => {
        const acme = await insertHook(store, 'acme');
        const other = await insertHook(store, 'other');
        const acmeFailing = await insertHook(store, 'acme');
        const otherFailing = await insertHook(store, 'other');
        await failAt(store, [
          { scope: 'acme', webhookId: acmeFailing, startedAt: at(-2000) },
          { scope: 'other', webhookId: otherFailing, startedAt: at(-3000) },
        ]);
        await enqueueAt(store, 'acme', 'a', [acme], at(100));
        await enqueueAt(store, 'other', 'o', [other, other], at(50));
        const acmeStats = await store.outboxStats({ now: at(1000), scope: 'acme' });
        expect(acmeStats).toEqual({
          pending: 1,
          due: 1,
          inFlight: 0,
          oldestDueAt: at(100),
          failingWebhookCount: 1,
          failingWebhooks: [expect.objectContaining({ scope: 'acme', webhookId: acmeFailing })],
        });
        expect(await store.outboxStats({ now: at(1000), scope: 'other' })).toMatchObject({
          pending: 2,
          due: 2,
          oldestDueAt: at(50),
          failingWebhookCount: 1,
          failingWebhooks: [{ scope: 'other', webhookId: otherFailing, failingSince: at(-3000) }],
        });
        expect(await store.outboxStats({ now: at(1000), scope: 'nobody' })).toEqual({
          ...NOTHING,
          failingWebhooks: [],
        });
        expect(await store.outboxStats({ now: at(1000), scope: 'acme', perScope: true })).toMatchObject({
          pending: 1,
          scopes: [
            { scope: 'acme', pending: 1, due: 1, inFlight: 0, oldestDueAt: at(100), failingWebhookCount: 1 },
          ],
        });
        expect(await store.outboxStats({ now: at(1000) })).toMatchObject({
          pending: 3,
          due: 3,
          oldestDueAt: at(50),
          failingWebhookCount: 2,
        });
      },
    );

    optionalCase(
      ctx,
      'outboxStats',
      'gives the counters of each scope with perScope, in binary order of the scope names, totals their sums',
      async (store) => {
        const lower = await insertHook(store, 'b-scope');
        const upper = await insertHook(store, 'B-scope');
        const onlyFailing = await insertHook(store, 'a-scope');
        await insertHook(store, 'quiet'); // nothing pending, nothing failing: not listed
        await failAt(store, [{ scope: 'a-scope', webhookId: onlyFailing, startedAt: at(-500) }]);
        await enqueueAt(store, 'b-scope', 'n', [lower, lower], at(0));
        await enqueueAt(store, 'B-scope', 'n', [upper], at(10));
        await enqueueAt(store, 'B-scope', 'later', [upper], at(5000));
        await store.claimDue({ limit: 1, leaseMs: 10_000, now: at(100) }); // one of b-scope's
        const stats = await store.outboxStats({ now: at(100), perScope: true });
        expect(stats.scopes).toEqual([
          { scope: 'B-scope', pending: 2, due: 1, inFlight: 0, oldestDueAt: at(10), failingWebhookCount: 0 },
          { scope: 'a-scope', pending: 0, due: 0, inFlight: 0, oldestDueAt: null, failingWebhookCount: 1 },
          { scope: 'b-scope', pending: 2, due: 1, inFlight: 1, oldestDueAt: at(0), failingWebhookCount: 0 },
        ]);
        expect(stats).toMatchObject({
          pending: 4,
          due: 2,
          inFlight: 1,
          oldestDueAt: at(0),
          failingWebhookCount: 1,
        });
        expect(stats.failingWebhooks).toEqual([
          expect.objectContaining({ scope: 'a-scope', webhookId: onlyFailing, failingSince: at(-500) }),
        ]);
        const { scopes: _, ...totals } = stats;
        expect(await store.outboxStats({ now: at(100) })).toEqual(totals);
      },
    );
  });
}
