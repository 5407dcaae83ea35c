/**
 * The memory store's delivery log against a plain model: random stores whose enqueue clock
 * sometimes goes back (so `createdAt` and slot order disagree), random filters, every page
 * followed by its cursor; and `webhookActivity` against the attempts `listAttempts` gives.
 * The contract itself is pinned by the conformance part `log`; this checks the scan's shortcuts
 * (the ordered tail, the early stop) over many shapes of data.
 */
import { describe, expect, it } from 'vitest';
import { memoryStore, ValidationError } from '../../src/index.js';
import type { Attempt, Delivery, DeliveryState } from '../../src/model.js';
import type { SearchDeliveriesInput, Store } from '../../src/stores/types.js';
import { newDelivery, webhookFields } from '../../src/testing/conformance-index.js';
import { seededRandom } from '../helpers/random.js';

const T = 1_700_000_000_000;
const TYPES = ['order.paid', 'order.placed', 'order.canceled'];
const STATES: DeliveryState[] = ['pending', 'succeeded', 'failed', 'canceled'];

interface Made {
  id: string;
  notificationId: string;
  scope: string;
  webhookId: number;
  type: string;
  createdAt: number;
  /** Creation order across the store. */
  seq: number;
}

/**
 * A store with `count` deliveries in notifications of 1 to 3, in two scopes and three webhooks
 * of `acme`; the clock mostly moves forward, sometimes stays, sometimes jumps back. Some are
 * failed at once, one webhook's pending ones are canceled, a few succeed.
 */
async function randomStore(
  seed: number,
  count: number,
): Promise<{ store: Store; made: Made[]; hooks: number[] }> {
  const next = seededRandom(seed);
  const store = memoryStore();
  const hooks: number[] = [];
  for (let i = 0; i < 3; i++)
    hooks.push((await store.insertWebhook({ scope: 'acme', fields: webhookFields(), now: new Date(T) })).id);
  const theirs = (await store.insertWebhook({ scope: 'other', fields: webhookFields(), now: new Date(T) }))
    .id;
  const made: Made[] = [];
  let clock = T;
  let n = 0;
  while (made.length < count) {
    const r = next();
    clock += r < 0.15 ? -Math.floor(next() * 5_000) : r < 0.35 ? 0 : Math.floor(next() * 1_000);
    const scope = next() < 0.2 ? 'other' : 'acme';
    const notificationId = `n${n++ % 40 === 7 ? 'shared' : n}`;
    const size = 1 + Math.floor(next() * 3);
    const batch = Array.from({ length: size }, () => {
      const webhookId = scope === 'other' ? theirs : (hooks[Math.floor(next() * 3)] as number);
      const type = TYPES[Math.floor(next() * TYPES.length)] as string;
      return newDelivery(webhookId, { type, ...(next() < 0.2 ? { failure: 'bad header' } : {}) });
    });
    const { created } = await store.enqueue({
      scope,
      notificationId,
      deliveries: batch,
      now: new Date(clock),
    });
    if (!created) continue;
    for (const d of batch)
      made.push({
        id: d.id,
        notificationId,
        scope,
        webhookId: d.webhookId,
        type: d.type,
        createdAt: clock,
        seq: made.length,
      });
  }
  // A few succeed (claimed oldest due first), then one webhook's pending ones are canceled.
  const claims = await store.claimDue({ limit: 10, leaseMs: 60_000, now: new Date(clock + 1e9) });
  await store.recordAttempts({
    items: claims.map((c) => ({
      deliveryId: c.id,
      leaseToken: c.leaseToken,
      attempt: {
        startedAt: new Date(T),
        durationMs: 5,
        status: 200,
        ok: true,
        error: null,
        responseBody: '',
        responseHeaders: {},
      },
      outcome: { state: 'succeeded' as const },
      now: new Date(T),
    })),
  });
  await store.cancelPending({ scope: 'acme', webhookId: hooks[2] as number, reason: 'x', now: new Date(T) });
  return { store, made, hooks };
}

/** What a search must find, by the contract's words, from the deliveries as they are now. */
function expected(
  made: readonly Made[],
  states: Map<string, DeliveryState>,
  input: SearchDeliveriesInput,
): string[] {
  return made
    .filter(
      (m) =>
        m.scope === input.scope &&
        (input.webhookId === null || m.webhookId === input.webhookId) &&
        (input.states === null || input.states.includes(states.get(m.id) as DeliveryState)) &&
        (input.types === null || input.types.includes(m.type)) &&
        (input.since === null || m.createdAt >= input.since.getTime()) &&
        (input.until === null || m.createdAt < input.until.getTime()) &&
        (input.id === null || m.id === input.id || m.notificationId === input.id),
    )
    .sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq)
    .map((m) => m.id);
}

describe('memory store: delivery log against a model', () => {
  it('pages every random search right: order, filters, cursors, no item lost or repeated', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const { store, made, hooks } = await randomStore(seed, 300);
      const states = new Map<string, DeliveryState>();
      for (const m of made) {
        const d = (await store.getDelivery({ scope: m.scope, id: m.id })) as Delivery;
        states.set(m.id, d.state);
      }
      const times = made.map((m) => m.createdAt);
      const low = Math.min(...times);
      const high = Math.max(...times);
      const next = seededRandom(seed * 1_000);
      const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
      for (let q = 0; q < 60; q++) {
        const since = next() < 0.4 ? new Date(low + Math.floor(next() * (high - low))) : null;
        const until = next() < 0.4 ? new Date(low + Math.floor(next() * (high - low + 2))) : null;
        const input: SearchDeliveriesInput = {
          scope: next() < 0.85 ? 'acme' : 'other',
          webhookId: next() < 0.3 ? pick(hooks) : null,
          states: next() < 0.3 ? STATES.filter(() => next() < 0.5) : null,
          types: next() < 0.3 ? TYPES.filter(() => next() < 0.6) : null,
          since,
          until,
          id: next() < 0.1 ? (next() < 0.5 ? pick(made).id : 'nshared') : null,
          cursor: null,
          limit: pick([1, 2, 3, 7, 50, 500]),
        };
        const want = expected(made, states, input);
        const got: string[] = [];
        let pages = 0;
        do {
          const page = await store.searchDeliveries?.(input);
          if (!page) throw new Error('memoryStore has searchDeliveries');
          pages++;
          got.push(...page.items.map((d) => d.id));
          // A cursor only while an older item is left.
          expect(page.cursor === null, `seed ${seed} query ${q}`).toBe(got.length === want.length);
          input.cursor = page.cursor;
        } while (input.cursor !== null && pages <= want.length);
        expect(got, `seed ${seed} query ${q}: ${JSON.stringify({ ...input, cursor: null })}`).toEqual(want);
        expect(pages).toBe(Math.max(1, Math.ceil(want.length / input.limit)));
      }
    }
  });

  it('reads a cursor it made only: other strings are a ValidationError at path cursor', async () => {
    const { store } = await randomStore(9, 20);
    const first = await store.searchDeliveries?.({
      scope: 'acme',
      webhookId: null,
      states: null,
      types: null,
      since: null,
      until: null,
      id: null,
      cursor: null,
      limit: 2,
    });
    expect(first?.cursor).toMatch(/^-?\d+:\d+$/);
    for (const cursor of [
      '',
      'x',
      '1:',
      ':1',
      '01:2',
      '-0:2',
      '1:02',
      '1.5:2',
      '1:2:3',
      ' 1:2',
      '99999999999999999:1',
    ]) {
      const search = store.searchDeliveries?.({
        scope: 'acme',
        webhookId: null,
        states: null,
        types: null,
        since: null,
        until: null,
        id: null,
        cursor,
        limit: 2,
      });
      await expect(search, JSON.stringify(cursor)).rejects.toBeInstanceOf(ValidationError);
      await expect(search).rejects.toMatchObject({ issues: [{ path: ['cursor'], code: 'invalid_cursor' }] });
    }
  });

  it('reports webhookActivity as the attempts listAttempts gives would say', async () => {
    const next = seededRandom(77);
    const store = memoryStore();
    const hooks: number[] = [];
    for (let i = 0; i < 3; i++)
      hooks.push(
        (await store.insertWebhook({ scope: 'acme', fields: webhookFields(), now: new Date(T) })).id,
      );
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const d = newDelivery(hooks[i % 3] as number);
      ids.push(d.id);
      await store.enqueue({ scope: 'acme', notificationId: `a${i}`, deliveries: [d], now: new Date(T) });
    }
    // Four rounds of attempts: each round claims every pending delivery and retries most.
    for (let round = 0; round < 4; round++) {
      const claims = await store.claimDue({ limit: 100, leaseMs: 60_000, now: new Date(T + round * 1e8) });
      await store.recordAttempts({
        items: claims.map((c) => {
          const status = pickStatus(next());
          return {
            deliveryId: c.id,
            leaseToken: c.leaseToken,
            attempt: {
              startedAt: new Date(T - 600_000 + Math.floor(next() * 4_200_000)),
              durationMs: Math.round(next() * 5_000) / 10,
              status,
              ok: status >= 200 && status < 300,
              error: null,
              responseBody: '',
              responseHeaders: {},
            },
            outcome:
              next() < 0.7 && round < 3
                ? { state: 'pending' as const, nextAttemptAt: new Date(T + (round + 1) * 1e8) }
                : { state: 'failed' as const },
            now: new Date(T),
          };
        }),
      });
    }
    const since = new Date(T);
    const until = new Date(T + 3_000_000);
    const bucketMs = 600_000;
    const report = await store.webhookActivity?.({
      scope: 'acme',
      webhookIds: hooks,
      since,
      until,
      bucketMs,
    });
    expect(report).toHaveLength(3);
    for (const [i, hook] of hooks.entries()) {
      const all: Attempt[] = [];
      for (const id of ids) {
        const list = await store.listAttempts({ scope: 'acme', deliveryId: id, offset: 0, limit: null });
        all.push(...list.items.filter((a) => a.webhookId === hook));
      }
      const inWindow = all.filter((a) => a.startedAt >= since && a.startedAt < until);
      const counts = (list: typeof all) => ({
        succeeded: list.filter((a) => a.ok).length,
        failed: list.filter((a) => !a.ok && a.status > 0).length,
        errored: list.filter((a) => a.status === 0).length,
      });
      const entry = report?.[i];
      expect(entry).toMatchObject({ webhookId: hook, ...counts(inWindow) });
      expect(entry?.p50DurationMs).toBeCloseTo(
        cont(
          inWindow.map((a) => a.durationMs),
          0.5,
        ) as number,
        9,
      );
      expect(entry?.p95DurationMs).toBeCloseTo(
        cont(
          inWindow.map((a) => a.durationMs),
          0.95,
        ) as number,
        9,
      );
      const newest = [...all].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id - a.id)[0];
      expect(entry?.lastAttempt).toEqual({
        startedAt: newest?.startedAt,
        status: newest?.status,
        ok: newest?.ok,
        durationMs: newest?.durationMs,
      });
      expect(entry?.buckets).toHaveLength(5);
      for (const [b, bucket] of (entry?.buckets ?? []).entries()) {
        const start = T + b * bucketMs;
        const inBucket = inWindow.filter(
          (a) => a.startedAt.getTime() >= start && a.startedAt.getTime() < start + bucketMs,
        );
        expect(bucket).toMatchObject({ start: new Date(start), ...counts(inBucket) });
        const p50 = cont(
          inBucket.map((a) => a.durationMs),
          0.5,
        );
        if (p50 === null) expect(bucket.p50DurationMs).toBeNull();
        else expect(bucket.p50DurationMs).toBeCloseTo(p50, 9);
      }
    }
  });

  it('refuses an activity window it cannot cut into buckets, with a ValidationError', async () => {
    const store = memoryStore();
    const input = {
      scope: 'acme',
      webhookIds: [1],
      since: new Date(T),
      until: new Date(T + 3_600_000),
      bucketMs: 60_000,
    };
    expect(await store.webhookActivity?.(input)).toHaveLength(1);
    for (const bad of [
      { bucketMs: 0 },
      { bucketMs: -60_000 },
      { bucketMs: Number.NaN },
      { bucketMs: 3_000 }, // 1 200 buckets
      { until: new Date(T) },
      { until: new Date(T - 1) },
    ]) {
      await expect(store.webhookActivity?.({ ...input, ...bad }), JSON.stringify(bad)).rejects.toBeInstanceOf(
        ValidationError,
      );
    }
  });
});

function pickStatus(r: number): number {
  if (r < 0.5) return 200;
  if (r < 0.6) return 204;
  if (r < 0.8) return 500;
  if (r < 0.9) return 302;
  return 0;
}

/** percentile_cont, written the plain way. */
function cont(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return (
    (sorted[lower] as number) + ((sorted[upper] as number) - (sorted[lower] as number)) * (position - lower)
  );
}
