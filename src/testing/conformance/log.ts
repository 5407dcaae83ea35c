/**
 * Conformance part "log": the optional `Store.searchDeliveries` (a scope's delivery log,
 * filtered and paged newest first, behind `registry.searchDeliveries()`) and
 * `Store.webhookActivity` (per webhook: attempts of a window by outcome, duration percentiles,
 * the newest attempt, chart buckets; behind `registry.webhookActivity()`). Cursors are opaque:
 * the cases only pass back what a page returned.
 *
 * @module
 */
import { describe, expect } from 'vitest';
import type {
  NewDelivery,
  SearchDeliveriesInput,
  SearchDeliveriesResult,
  Store,
  WebhookActivity,
  WebhookActivityInput,
} from '../../stores/types.js';
import { type ConformanceContext, optedOut, optionalCase, type StoreWith } from './context.js';
import { at, attemptData, insertHook, newDelivery, T0 } from './fixtures.js';

let notificationSeq = 0;

/** A notification id of its own for each call. */
const nextNotification = (): string => {
  notificationSeq += 1;
  return `log-${notificationSeq}`;
};

/** The input of a search of `acme`'s whole log, newest page of 50, with overrides. */
function search(overrides: Partial<SearchDeliveriesInput> = {}): SearchDeliveriesInput {
  return {
    scope: 'acme',
    webhookId: null,
    states: null,
    types: null,
    since: null,
    until: null,
    id: null,
    cursor: null,
    limit: 50,
    ...overrides,
  };
}

const idsOf = (page: SearchDeliveriesResult): string[] => page.items.map((d) => d.id);

/**
 * Every page of a search from the newest, following the cursors until one is `null`: the ids of
 * each page. Checks that no page holds more than `limit` items and that only the last one is short.
 */
async function allPages(
  store: StoreWith<'searchDeliveries'>,
  input: SearchDeliveriesInput,
): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page: SearchDeliveriesResult = await store.searchDeliveries({ ...input, cursor });
    expect(page.items.length).toBeLessThanOrEqual(input.limit);
    if (page.cursor !== null) expect(page.items).toHaveLength(input.limit);
    pages.push(idsOf(page));
    cursor = page.cursor;
    if (pages.length > 1_000) throw new Error('searchDeliveries never ended its pages (cursor never null)');
  } while (cursor !== null);
  return pages;
}

/**
 * Enqueues `deliveries` as one notification of `scope` (default `acme`) created at `createdAt`;
 * returns their ids in the order given (their creation order).
 */
async function made(
  store: Store,
  createdAt: Date,
  deliveries: readonly NewDelivery[],
  options: { scope?: string; notificationId?: string } = {},
): Promise<string[]> {
  await store.enqueue({
    scope: options.scope ?? 'acme',
    notificationId: options.notificationId ?? nextNotification(),
    deliveries: [...deliveries],
    now: createdAt,
  });
  return deliveries.map((d) => d.id);
}

/** One HTTP try for {@link tried}: `ok` exactly when the status is 2xx; status 0 for no answer. */
interface Try {
  startedAt: Date;
  durationMs: number;
  status: number;
}

const tryAt = (ms: number, durationMs: number, status = 200): Try => ({
  startedAt: at(ms),
  durationMs,
  status,
});

/**
 * Makes one delivery of `webhookId` in `scope` (default `acme`) and records `tries` as its
 * attempts, one `recordAttempts` call each, in the order given: every one but the last leaves
 * it pending (due again at once), the last one finishes it. Needs an outbox with nothing else
 * due at {@link T0}.
 */
async function tried(store: Store, webhookId: number, tries: readonly Try[], scope = 'acme'): Promise<void> {
  const [id] = await made(store, T0, [newDelivery(webhookId)], { scope });
  for (const [i, t] of tries.entries()) {
    const claims = await store.claimDue({ limit: 10, leaseMs: 60_000, now: T0 });
    expect(claims.map((c) => c.id)).toEqual([id]);
    const ok = t.status >= 200 && t.status <= 299;
    const last = i === tries.length - 1;
    await store.recordAttempts({
      items: [
        {
          deliveryId: id as string,
          leaseToken: claims[0]?.leaseToken as string,
          attempt: attemptData(t.startedAt, {
            durationMs: t.durationMs,
            status: t.status,
            ok,
            error: ok ? null : t.status === 0 ? 'connect ECONNREFUSED' : `HTTP ${t.status}`,
          }),
          outcome: !last
            ? { state: 'pending', nextAttemptAt: T0 }
            : ok
              ? { state: 'succeeded' }
              : { state: 'failed' },
          now: T0,
        },
      ],
    });
  }
}

/**
 * Makes one delivery of `webhookId` per try and records their attempts in one `recordAttempts`
 * batch. Needs an outbox with nothing else due at {@link T0}.
 */
async function triedInOneBatch(store: Store, webhookId: number, tries: readonly Try[]): Promise<void> {
  const ids = await made(
    store,
    T0,
    tries.map(() => newDelivery(webhookId)),
  );
  const claims = await store.claimDue({ limit: tries.length + 1, leaseMs: 60_000, now: T0 });
  expect(claims).toHaveLength(tries.length);
  const tokens = new Map(claims.map((c) => [c.id, c.leaseToken]));
  await store.recordAttempts({
    items: tries.map((t, i) => {
      const ok = t.status >= 200 && t.status <= 299;
      const id = ids[i] as string;
      return {
        deliveryId: id,
        leaseToken: tokens.get(id) as string,
        attempt: attemptData(t.startedAt, {
          durationMs: t.durationMs,
          status: t.status,
          ok,
          error: ok ? null : 'x',
        }),
        outcome: ok ? { state: 'succeeded' } : { state: 'failed' },
        now: T0,
      };
    }),
  });
}

/** The input of an activity report on `acme` from T0, one hour long in one bucket, with overrides. */
function activity(
  webhookIds: readonly number[],
  overrides: Partial<WebhookActivityInput> = {},
): WebhookActivityInput {
  return { scope: 'acme', webhookIds, since: T0, until: at(3_600_000), bucketMs: 3_600_000, ...overrides };
}

/** What a webhook without attempts in the window reports, with `bucketStarts` empty buckets. */
function idle(
  webhookId: number,
  bucketStarts: readonly Date[],
  lastAttempt: WebhookActivity['lastAttempt'] = null,
): WebhookActivity {
  return {
    webhookId,
    succeeded: 0,
    failed: 0,
    errored: 0,
    p50DurationMs: null,
    p95DurationMs: null,
    lastAttempt,
    buckets: bucketStarts.map((start) => ({
      start,
      succeeded: 0,
      failed: 0,
      errored: 0,
      p50DurationMs: null,
    })),
  };
}

/**
 * Registers the `log` cases, by `capabilities.searchDeliveries` and
 * `capabilities.webhookActivity` (see `StoreConformanceCapabilities`).
 *
 * @example
 * ```ts
 * logCases(conformanceContext({ name: 'memory', createStore: () => memoryStore() }));
 * ```
 */
export function logCases(ctx: ConformanceContext): void {
  if (!optedOut(ctx, 'searchDeliveries')) searchCases(ctx);
  if (!optedOut(ctx, 'webhookActivity')) activityCases(ctx);
}

/**
 * The deliveries of the filter cases, in `acme` (and one notification of the same id in
 * `other`). Newest first: `b3`, `a3` (one notification, `nm`, created at 6 s: `b3` was made
 * after `a3`), `c1` (5 s), `b2` (4 s, made first of all), `b1` (3 s), `a2` (2 s), `a1` (1 s).
 */
async function filterFixture(store: Store) {
  const hookA = await insertHook(store);
  const hookB = await insertHook(store);
  const hookC = await insertHook(store);
  const hookX = await insertHook(store, 'other');
  // b2 first, so it can be claimed and succeed while nothing else is due.
  const [b2] = await made(store, at(4_000), [newDelivery(hookB, { type: 'order.canceled' })]);
  const [claim] = await store.claimDue({ limit: 10, leaseMs: 60_000, now: at(4_000) });
  expect(claim?.id).toBe(b2);
  await store.recordAttempts({
    items: [
      {
        deliveryId: b2 as string,
        leaseToken: claim?.leaseToken as string,
        attempt: attemptData(at(4_000)),
        outcome: { state: 'succeeded' },
        now: at(4_010),
      },
    ],
  });
  const [a1] = await made(store, at(1_000), [newDelivery(hookA, { type: 'order.paid' })]);
  const [a2] = await made(store, at(2_000), [
    newDelivery(hookA, { type: 'order.placed', failure: 'bad header' }),
  ]);
  const [b1] = await made(store, at(3_000), [
    newDelivery(hookB, { type: 'order.paid', failure: 'bad header' }),
  ]);
  const [c1] = await made(store, at(5_000), [newDelivery(hookC, { type: 'order.refunded' })]);
  expect(
    await store.cancelPending({ scope: 'acme', webhookId: hookC, reason: 'disabled', now: at(5_000) }),
  ).toBe(1);
  const [a3, b3] = await made(
    store,
    at(6_000),
    [newDelivery(hookA, { type: 'order.paid' }), newDelivery(hookB, { type: 'order.paid' })],
    { notificationId: 'nm' },
  );
  const [x1, x2] = await made(
    store,
    at(6_000),
    [newDelivery(hookX, { type: 'order.paid' }), newDelivery(hookX, { type: 'order.paid' })],
    { scope: 'other', notificationId: 'nm' },
  );
  const [x3] = await made(store, at(7_000), [newDelivery(hookX, { type: 'order.paid' })], {
    scope: 'other',
    notificationId: 'only-other',
  });
  return {
    hookA,
    hookB,
    hookC,
    hookX,
    ids: { a1, a2, a3, b1, b2, b3, c1, x1, x2, x3 } as Record<
      'a1' | 'a2' | 'a3' | 'b1' | 'b2' | 'b3' | 'c1' | 'x1' | 'x2' | 'x3',
      string
    >,
  };
}

function searchCases(ctx: ConformanceContext): void {
  describe('log: searchDeliveries (optional)', () => {
    optionalCase(
      ctx,
      'searchDeliveries',
      "lists the scope's deliveries of every webhook newest first (by createdAt, then creation order), each as getDelivery returns it",
      async (store) => {
        const { ids } = await filterFixture(store);
        const page = await store.searchDeliveries(search());
        expect(idsOf(page)).toEqual([ids.b3, ids.a3, ids.c1, ids.b2, ids.b1, ids.a2, ids.a1]);
        expect(page.cursor).toBeNull();
        for (const item of page.items)
          expect(item).toEqual(await store.getDelivery({ scope: 'acme', id: item.id }));
        expect(page.items.map((d) => d.state)).toEqual([
          'pending',
          'pending',
          'canceled',
          'succeeded',
          'failed',
          'failed',
          'pending',
        ]);
      },
    );

    optionalCase(
      ctx,
      'searchDeliveries',
      'filters by webhook, by states (one or several) and by event types (exact names, one or several)',
      async (store) => {
        const { hookA, hookB, hookC, hookX, ids } = await filterFixture(store);
        const found = async (input: Partial<SearchDeliveriesInput>) =>
          idsOf(await store.searchDeliveries(search(input)));
        expect(await found({ webhookId: hookA })).toEqual([ids.a3, ids.a2, ids.a1]);
        expect(await found({ webhookId: hookC })).toEqual([ids.c1]);
        expect(await found({ webhookId: hookX })).toEqual([]);
        expect(await found({ webhookId: 999_999 })).toEqual([]);
        expect(await found({ states: ['failed'] })).toEqual([ids.b1, ids.a2]);
        expect(await found({ states: ['succeeded'] })).toEqual([ids.b2]);
        expect(await found({ states: ['pending', 'canceled'] })).toEqual([ids.b3, ids.a3, ids.c1, ids.a1]);
        expect(await found({ states: ['pending', 'succeeded', 'failed', 'canceled'] })).toHaveLength(7);
        expect(await found({ types: ['order.paid'] })).toEqual([ids.b3, ids.a3, ids.b1, ids.a1]);
        expect(await found({ types: ['order.placed', 'order.canceled'] })).toEqual([ids.b2, ids.a2]);
        // Exact names: no prefix or pattern matching.
        expect(await found({ types: ['order'] })).toEqual([]);
        expect(await found({ types: ['order.*'] })).toEqual([]);
        expect(await found({ types: ['never.seen'] })).toEqual([]);
        expect(await found({ webhookId: hookB, states: ['failed', 'succeeded'] })).toEqual([ids.b2, ids.b1]);
        expect(await found({ webhookId: hookA, states: ['pending'], types: ['order.paid'] })).toEqual([
          ids.a3,
          ids.a1,
        ]);
      },
    );

    optionalCase(
      ctx,
      'searchDeliveries',
      'filters by createdAt: since included, until excluded, either or both',
      async (store) => {
        const { ids } = await filterFixture(store);
        const found = async (input: Partial<SearchDeliveriesInput>) =>
          idsOf(await store.searchDeliveries(search(input)));
        expect(await found({ since: at(2_000), until: at(5_000) })).toEqual([ids.b2, ids.b1, ids.a2]);
        expect(await found({ since: at(5_000) })).toEqual([ids.b3, ids.a3, ids.c1]);
        expect(await found({ until: at(2_000) })).toEqual([ids.a1]);
        expect(await found({ until: at(2_001) })).toEqual([ids.a2, ids.a1]);
        expect(await found({ since: at(6_001) })).toEqual([]);
        expect(await found({ until: at(1_000) })).toEqual([]);
        expect(await found({ since: at(1_000), until: at(1_001), states: ['pending'] })).toEqual([ids.a1]);
      },
    );

    optionalCase(
      ctx,
      'searchDeliveries',
      'finds by id: the delivery with that id, or every delivery of the notification with that id',
      async (store) => {
        const { hookA, ids } = await filterFixture(store);
        const found = async (input: Partial<SearchDeliveriesInput>) =>
          idsOf(await store.searchDeliveries(search(input)));
        expect(await found({ id: ids.a2 })).toEqual([ids.a2]);
        expect(await found({ id: 'nm' })).toEqual([ids.b3, ids.a3]);
        expect(await found({ id: 'nm', webhookId: hookA })).toEqual([ids.a3]);
        expect(await found({ id: 'nm', states: ['failed'] })).toEqual([]);
        expect(await found({ id: ids.a2, states: ['pending'] })).toEqual([]);
        expect(await found({ id: 'nm', since: at(6_001) })).toEqual([]);
        expect(await found({ id: 'no-such-id' })).toEqual([]);
        // An id is matched whole.
        expect(await found({ id: ids.a2.slice(0, -1) })).toEqual([]);
        const paged = await allPages(store, search({ id: 'nm', limit: 1 }));
        expect(paged).toEqual([[ids.b3], [ids.a3]]);
      },
    );

    optionalCase(
      ctx,
      'searchDeliveries',
      "never shows another scope's deliveries, also by their delivery or notification id",
      async (store) => {
        const { hookX, ids } = await filterFixture(store);
        const found = async (input: Partial<SearchDeliveriesInput>) =>
          idsOf(await store.searchDeliveries(search(input)));
        const all = await found({});
        for (const theirs of [ids.x1, ids.x2, ids.x3]) {
          expect(all).not.toContain(theirs);
          expect(await found({ id: theirs })).toEqual([]);
        }
        expect(await found({ id: 'only-other' })).toEqual([]);
        // The notification id both scopes have: acme's deliveries alone.
        expect(await found({ id: 'nm' })).toEqual([ids.b3, ids.a3]);
        expect(await found({ webhookId: hookX })).toEqual([]);
        expect(await found({ scope: 'other' })).toEqual([ids.x3, ids.x2, ids.x1]);
        expect(await found({ scope: 'other', id: 'nm' })).toEqual([ids.x2, ids.x1]);
        expect(await found({ scope: 'other', id: ids.a1 })).toEqual([]);
        expect(await store.searchDeliveries(search({ scope: 'nobody' }))).toEqual({
          items: [],
          cursor: null,
        });
      },
    );

    optionalCase(
      ctx,
      'searchDeliveries',
      'pages through deliveries created at the same instant: each once, newest created first, null cursor at the end',
      async (store) => {
        const hook = await insertHook(store);
        // d1..d5 in creation order, all at T0, in three notifications.
        const [d1, d2] = await made(store, T0, [newDelivery(hook), newDelivery(hook)]);
        const [d3] = await made(store, T0, [newDelivery(hook)]);
        const [d4, d5] = await made(store, T0, [newDelivery(hook), newDelivery(hook)]);
        expect(await allPages(store, search({ limit: 2 }))).toEqual([[d5, d4], [d3, d2], [d1]]);
        expect(await allPages(store, search({ limit: 1 }))).toEqual([[d5], [d4], [d3], [d2], [d1]]);
        expect(await allPages(store, search({ limit: 3 }))).toEqual([
          [d5, d4, d3],
          [d2, d1],
        ]);
        // An exact multiple of the limit: the last full page already says there is no more.
        expect(await allPages(store, search({ limit: 5 }))).toEqual([[d5, d4, d3, d2, d1]]);
        expect(await allPages(store, search({ limit: 500 }))).toEqual([[d5, d4, d3, d2, d1]]);
        expect(await allPages(store, search({ limit: 2, since: T0, until: at(1) }))).toEqual([
          [d5, d4],
          [d3, d2],
          [d1],
        ]);
      },
    );

    optionalCase(
      ctx,
      'searchDeliveries',
      'orders by createdAt before creation order: deliveries enqueued with an earlier clock sit where their time says',
      async (store) => {
        const hook = await insertHook(store);
        const ids: string[] = [];
        for (const ms of [3_000, 1_000, 3_000, 2_000, 1_000, 5_000, 2_000]) {
          ids.push(...(await made(store, at(ms), [newDelivery(hook)])));
        }
        const [e0, e1, e2, e3, e4, e5, e6] = ids;
        const newestFirst = [e5, e2, e0, e6, e3, e4, e1];
        for (const limit of [1, 2, 3, 4, 7, 8]) {
          const pages = await allPages(store, search({ limit }));
          expect(pages.flat(), `limit ${limit}`).toEqual(newestFirst);
          expect(pages).toHaveLength(Math.ceil(7 / limit));
        }
        expect(
          (await allPages(store, search({ limit: 2, since: at(2_000), until: at(5_000) }))).flat(),
        ).toEqual([e2, e0, e6, e3]);
      },
    );

    optionalCase(
      ctx,
      'searchDeliveries',
      'pages with filters: each page holds matching deliveries only, none lost or repeated',
      async (store) => {
        const mine = await insertHook(store);
        const noise = await insertHook(store);
        const expected: string[] = [];
        for (let i = 0; i < 9; i++) {
          const type = i % 3 === 0 ? 'order.placed' : 'order.paid';
          const [kept] = await made(store, at(Math.floor(i / 2) * 1_000), [
            newDelivery(mine, { type }),
            newDelivery(noise, { type }),
          ]);
          if (type === 'order.paid') expected.unshift(kept as string);
        }
        const pages = await allPages(store, search({ webhookId: mine, types: ['order.paid'], limit: 4 }));
        expect(pages.map((p) => p.length)).toEqual([4, 2]);
        expect(pages.flat()).toEqual(expected);
      },
    );

    optionalCase(
      ctx,
      'searchDeliveries',
      'keeps its place: deliveries made after a page was read do not shift the next page (a cursor, not an offset)',
      async (store) => {
        const hook = await insertHook(store);
        const old: string[] = [];
        for (let i = 1; i <= 5; i++) old.push(...(await made(store, at(i * 1_000), [newDelivery(hook)])));
        const first = await store.searchDeliveries(search({ limit: 2 }));
        expect(idsOf(first)).toEqual([old[4], old[3]]);
        expect(first.cursor).not.toBeNull();
        const fresh: string[] = [];
        for (let i = 6; i <= 8; i++) fresh.push(...(await made(store, at(i * 1_000), [newDelivery(hook)])));
        // Deliveries of the first page and of the next changed state meanwhile: no matter.
        await store.cancelPending({ scope: 'acme', webhookId: hook, reason: 'stop', now: at(9_000) });
        const second = await store.searchDeliveries(search({ limit: 2, cursor: first.cursor }));
        expect(idsOf(second)).toEqual([old[2], old[1]]);
        const third = await store.searchDeliveries(search({ limit: 2, cursor: second.cursor }));
        expect(idsOf(third)).toEqual([old[0]]);
        expect(third.cursor).toBeNull();
        // Read again from the top, the new ones come first.
        expect(idsOf(await store.searchDeliveries(search({ limit: 3 })))).toEqual([
          fresh[2],
          fresh[1],
          fresh[0],
        ]);
        // The same cursor read twice gives the same page.
        expect(idsOf(await store.searchDeliveries(search({ limit: 2, cursor: first.cursor })))).toEqual(
          idsOf(second),
        );
      },
    );

    optionalCase(
      ctx,
      'searchDeliveries',
      'refuses a cursor it did not make with a ValidationError at path cursor',
      async (store) => {
        const hook = await insertHook(store);
        await made(store, T0, [newDelivery(hook), newDelivery(hook), newDelivery(hook)]);
        for (const cursor of ['not-a-cursor', '{"x":1}', '\u00ff\u00fe']) {
          await expect(store.searchDeliveries(search({ cursor, limit: 1 })), cursor).rejects.toMatchObject({
            code: 'validation_failed',
            issues: expect.arrayContaining([expect.objectContaining({ path: ['cursor'] })]),
          });
        }
      },
    );
  });
}

function activityCases(ctx: ConformanceContext): void {
  describe('log: webhookActivity (optional)', () => {
    optionalCase(
      ctx,
      'webhookActivity',
      'counts attempts by outcome (ok: succeeded; other status: failed; status 0: errored), retries included',
      async (store) => {
        const hook = await insertHook(store);
        await tried(store, hook, [tryAt(1_000, 40, 500), tryAt(2_000, 10, 200)]);
        await tried(store, hook, [tryAt(3_000, 20, 0), tryAt(4_000, 30, 204)]);
        await tried(store, hook, [tryAt(5_000, 50, 302), tryAt(6_000, 60, 410)]);
        const [report, ...rest] = await store.webhookActivity(activity([hook]));
        expect(rest).toEqual([]);
        expect(report).toMatchObject({ webhookId: hook, succeeded: 2, failed: 3, errored: 1 });
        expect(report?.buckets).toHaveLength(1);
        expect(report?.buckets[0]).toMatchObject({ start: T0, succeeded: 2, failed: 3, errored: 1 });
        expect(report?.lastAttempt).toEqual({ startedAt: at(6_000), status: 410, ok: false, durationMs: 60 });
      },
    );

    optionalCase(
      ctx,
      'webhookActivity',
      'gives continuous percentiles of the durations (interpolated, as percentile_cont)',
      async (store) => {
        const four = await insertHook(store);
        const one = await insertHook(store);
        const twenty = await insertHook(store);
        await tried(store, four, [
          tryAt(1_000, 40, 500),
          tryAt(2_000, 10),
          tryAt(3_000, 30, 0),
          tryAt(4_000, 20),
        ]);
        await tried(store, one, [tryAt(1_000, 12.5)]);
        await triedInOneBatch(
          store,
          twenty,
          Array.from({ length: 20 }, (_, i) => tryAt(1_000 + i, 20 - i, i % 4 === 0 ? 503 : 200)),
        );
        const [a, b, c] = await store.webhookActivity(activity([four, one, twenty]));
        // [10, 20, 30, 40]: p50 between 20 and 30, p95 at 2.85 of 3 steps.
        expect(a?.p50DurationMs).toBeCloseTo(25, 9);
        expect(a?.p95DurationMs).toBeCloseTo(38.5, 9);
        expect(a?.buckets[0]?.p50DurationMs).toBeCloseTo(25, 9);
        expect(b).toMatchObject({ succeeded: 1, p50DurationMs: 12.5, p95DurationMs: 12.5 });
        expect(b?.buckets[0]?.p50DurationMs).toBe(12.5);
        // 1..20: p50 10.5, p95 at 18.05 of 19 steps: 19.05.
        expect(c).toMatchObject({ succeeded: 15, failed: 5, errored: 0 });
        expect(c?.p50DurationMs).toBeCloseTo(10.5, 9);
        expect(c?.p95DurationMs).toBeCloseTo(19.05, 9);
      },
    );

    optionalCase(
      ctx,
      'webhookActivity',
      'counts attempts started in [since, until) only, in buckets of bucketMs from since, empty buckets included',
      async (store) => {
        const hook = await insertHook(store);
        await tried(store, hook, [
          tryAt(-1, 99, 500),
          tryAt(0, 10),
          tryAt(59_999, 30),
          tryAt(60_000, 7),
          tryAt(209_999, 5, 500),
          tryAt(210_000, 98, 0),
        ]);
        const since = T0;
        const until = at(210_000);
        const [report] = await store.webhookActivity(activity([hook], { since, until, bucketMs: 60_000 }));
        expect(report).toMatchObject({ webhookId: hook, succeeded: 3, failed: 1, errored: 0 });
        // [5, 7, 10, 30]
        expect(report?.p50DurationMs).toBeCloseTo(8.5, 9);
        expect(report?.p95DurationMs).toBeCloseTo(27, 9);
        // 3.5 minutes: 4 buckets, the last one cut short.
        expect(report?.buckets.map((b) => b.start)).toEqual([T0, at(60_000), at(120_000), at(180_000)]);
        expect(report?.buckets.map((b) => [b.succeeded, b.failed, b.errored])).toEqual([
          [2, 0, 0],
          [1, 0, 0],
          [0, 0, 0],
          [0, 1, 0],
        ]);
        expect(report?.buckets[0]?.p50DurationMs).toBeCloseTo(20, 9);
        expect(report?.buckets[1]?.p50DurationMs).toBe(7);
        expect(report?.buckets[2]?.p50DurationMs).toBeNull();
        expect(report?.buckets[3]?.p50DurationMs).toBe(5);
        // The newest attempt is the one at `until`, outside the window.
        expect(report?.lastAttempt).toEqual({ startedAt: at(210_000), status: 0, ok: false, durationMs: 98 });
        // Buckets start at `since`, not at whole minutes or hours.
        const [shifted] = await store.webhookActivity(
          activity([hook], { since: at(-30_000), until: at(90_000), bucketMs: 60_000 }),
        );
        expect(shifted?.buckets.map((b) => [b.start, b.succeeded, b.failed, b.errored])).toEqual([
          [at(-30_000), 1, 1, 0],
          [at(30_000), 2, 0, 0],
        ]);
        // A window that is a whole number of buckets has no extra one.
        const [exact] = await store.webhookActivity(
          activity([hook], { since, until: at(240_000), bucketMs: 120_000 }),
        );
        expect(exact?.buckets.map((b) => [b.start, b.succeeded, b.failed])).toEqual([
          [T0, 3, 0],
          [at(120_000), 0, 1],
        ]);
      },
    );

    optionalCase(
      ctx,
      'webhookActivity',
      'reports the newest attempt ever (latest startedAt, then the one recorded last), null without one',
      async (store) => {
        const early = await insertHook(store);
        const never = await insertHook(store);
        const ties = await insertHook(store);
        // Recorded out of order: a request started at 5 s finished after one started at 3 s.
        await tried(store, early, [tryAt(5_000, 11, 503)]);
        await tried(store, early, [tryAt(3_000, 22, 200)]);
        await tried(store, ties, [tryAt(7_000, 33, 500)]);
        await tried(store, ties, [tryAt(7_000, 44, 200)]);
        const since = at(3_600_000);
        const window = { since, until: at(7_200_000), bucketMs: 1_800_000 };
        const starts = [since, at(5_400_000)];
        expect(await store.webhookActivity(activity([early, never, ties], window))).toEqual([
          idle(early, starts, { startedAt: at(5_000), status: 503, ok: false, durationMs: 11 }),
          idle(never, starts),
          idle(ties, starts, { startedAt: at(7_000), status: 200, ok: true, durationMs: 44 }),
        ]);
      },
    );

    optionalCase(
      ctx,
      'webhookActivity',
      "answers one entry per id asked for, in that order: unknown ids and another scope's webhooks with zeros, their attempts never counted",
      async (store) => {
        const a = await insertHook(store);
        const b = await insertHook(store);
        const theirs = await insertHook(store, 'other');
        await tried(store, a, [tryAt(1_000, 10)]);
        await tried(store, theirs, [tryAt(2_000, 20, 500)], 'other');
        const report = await store.webhookActivity(activity([999_999, theirs, b, a]));
        expect(report.map((r) => r.webhookId)).toEqual([999_999, theirs, b, a]);
        expect(report.slice(0, 3)).toEqual([idle(999_999, [T0]), idle(theirs, [T0]), idle(b, [T0])]);
        expect(report[3]).toMatchObject({
          webhookId: a,
          succeeded: 1,
          failed: 0,
          errored: 0,
          p50DurationMs: 10,
        });
        // In its own scope, the other webhook's attempt counts; acme's does not.
        const [own, foreign] = await store.webhookActivity(activity([theirs, a], { scope: 'other' }));
        expect(own).toMatchObject({
          webhookId: theirs,
          failed: 1,
          lastAttempt: { startedAt: at(2_000), status: 500, ok: false, durationMs: 20 },
        });
        expect(foreign).toEqual(idle(a, [T0]));
        expect(await store.webhookActivity(activity([a], { scope: 'nobody' }))).toEqual([idle(a, [T0])]);
      },
    );
  });
}
