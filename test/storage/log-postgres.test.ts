/**
 * The delivery log on the real PostgreSQL server at volume: 250 000 deliveries and 1 000 000
 * attempts over 30 days in two scopes. Every page of `searchDeliveries` and `webhookActivity`
 * (and `listDeliveries`) is planned through migration 6's indexes, never a sequential scan of
 * deliveries or attempts; paging with cursors and the activity counts agree with plain SQL.
 * Timings are machine-dependent and not asserted here; docs/postgres.md has them at 1 000 000
 * attempts.
 */
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DeliveryState } from '../../src/model.js';
import { type PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';
import type { SearchDeliveriesInput } from '../../src/stores/types.js';
import {
  describeServer,
  destroyStore,
  dropRunSchemas,
  serverPool,
  uniqueSchema,
} from '../postgres/helpers.js';

/** The end of the data: the last delivery is created just before it. */
const END = Date.parse('2026-12-04T00:00:00.000Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Deliveries (four attempts each); a twentieth of them in the last 24 hours. */
const N = 250_000;

describeServer('the delivery log on the real server, at volume', () => {
  let pool: pg.Pool;
  let store: PostgresStore;
  /** The last statement the store ran. */
  let last: { text: string; params: unknown[] } | null = null;
  /** The ids of the scope's webhooks: `acme` 1 to 21 (the 21st nearly idle), then `other`. */
  let hooks: number[] = [];
  let s = '';

  beforeAll(async () => {
    pool = serverPool();
    const db = {
      query: (text: string, params?: unknown[]) => {
        last = { text, params: params ?? [] };
        return pool.query(text, params);
      },
    };
    store = postgresStore({ db, schema: uniqueSchema(), notify: false });
    await store.migrate();
    s = `"${store.schema}"`;
    await pool.query(`INSERT INTO ${s}.webhooks (scope, enabled, url, method, event_types, all_events, limit_events,
          secrets, created_at, updated_at)
        SELECT CASE WHEN g <= 21 THEN 'acme' ELSE 'other' END, true, 'https://r.example/h' || g, 'POST', '[]', true,
               '[]', '[]', timestamptz '2026-11-01', timestamptz '2026-11-01'
          FROM generate_series(1, 41) AS g`);
    const { rows } = await pool.query(`SELECT id FROM ${s}.webhooks ORDER BY id`);
    hooks = (rows as { id: string }[]).map((r) => Number(r.id));
    const first = hooks[0] as number;
    // Two deliveries per notification; a fifth of the notifications in `other`. 5 % failed, 1 %
    // canceled, the newest 0.4 % pending, the rest succeeded; 10 event types and a rare one.
    // Three deliveries share each instant (ties broken by creation order), and every 997th was
    // created an hour before its neighbours (an earlier clock: not in seq order).
    await pool.query(
      `INSERT INTO ${s}.deliveries (id, scope, webhook_id, notification_id, type, event, request, state,
         attempt_count, next_attempt_at, last_status, last_error, created_at, updated_at)
       SELECT 'msg_' || lpad(g::text, 10, '0'), sc,
              CASE WHEN sc = 'other' THEN ${first + 21} + h1 % 20 WHEN g % 2000 = 0 THEN ${first + 20}
                   ELSE ${first} + h1 % 20 END,
              'ntf_' || k,
              CASE WHEN h2 % 10000 = 0 THEN 'order.refunded'
                   ELSE (ARRAY['order.paid', 'order.placed', 'order.canceled', 'order.changed', 'invoice.created',
                         'invoice.paid', 'customer.created', 'customer.updated', 'ticket.checked_in',
                         'event.updated'])[1 + h2 % 10] END,
              NULL, '{"url":"https://r.example/h","method":"POST","headers":{},"body":"{}"}', st, 4,
              CASE WHEN st = 'pending' THEN timestamptz '2027-01-01' END,
              CASE WHEN st = 'succeeded' THEN 200 WHEN st = 'canceled' THEN NULL ELSE 500 END,
              CASE WHEN st = 'failed' THEN 'HTTP 500' END, at, at + interval '10 minutes'
         FROM (
           SELECT g, k, sc, h1, h2,
                  CASE WHEN g > ${N - N / 250} THEN 'pending' WHEN h3 % 100 < 5 THEN 'failed'
                       WHEN h3 % 100 = 5 THEN 'canceled' ELSE 'succeeded' END AS st,
                  CASE WHEN g % 997 = 0 THEN interval '-1 hour' ELSE interval '0' END +
                  CASE WHEN g <= ${N - N / 20}
                       THEN timestamptz '2026-11-04' + ((g - 1) / 3) * (interval '29 days' / ${(N - N / 20) / 3})
                       ELSE timestamptz '2026-12-03' + ((g - ${N - N / 20} - 1) / 3) * (interval '24 hours' / ${N / 60})
                  END AS at
             FROM (SELECT g, (g + 1) / 2 AS k, abs(hashint4(g)) AS h1, abs(hashint4(g + 7777777)) AS h2,
                          abs(hashint4(g + 3333333)) AS h3,
                          CASE WHEN ((g + 1) / 2) % 5 = 0 THEN 'other' ELSE 'acme' END AS sc
                     FROM generate_series(1, ${N}) AS g) AS base
         ) AS d
        ORDER BY g`,
    );
    await pool.query(`INSERT INTO ${s}.notifications (scope, id, delivery_ids, created_at)
        SELECT scope, notification_id, jsonb_agg(id ORDER BY seq), min(created_at)
          FROM ${s}.deliveries GROUP BY scope, notification_id`);
    // Four attempts a minute apart: 90 % answered 2xx, 7 % 500, 3 % no answer; durations 20 to 420 ms.
    await pool.query(`INSERT INTO ${s}.attempts (delivery_id, scope, webhook_id, attempt_number, retry, started_at,
          duration_ms, status, ok, error, response_body, response_headers)
        SELECT d.id, d.scope, d.webhook_id, a, a > 1, d.created_at + (a - 1) * interval '1 minute',
               round((20 + 400 * power(abs(hashint8(d.seq * 4 + a)) % 1000 / 1000.0, 3))::numeric, 3)::float8,
               st, st BETWEEN 200 AND 299, CASE WHEN st = 0 THEN 'timeout' END, '', '{}'
          FROM ${s}.deliveries AS d CROSS JOIN generate_series(1, 4) AS a
         CROSS JOIN LATERAL (SELECT CASE WHEN abs(hashint8(d.seq * 4 + a + 1)) % 100 < 90 THEN 200
                                         WHEN abs(hashint8(d.seq * 4 + a + 1)) % 100 < 97 THEN 500 ELSE 0 END AS st) AS x
         ORDER BY d.seq, a`);
    await pool.query(`VACUUM ANALYZE ${s}.deliveries, ${s}.attempts, ${s}.notifications, ${s}.webhooks`);
  }, 120_000);

  afterAll(async () => {
    if (store) await destroyStore(store);
    await dropRunSchemas(pool);
    await pool.end();
  });

  /** The plan of the statement `call` makes the store run (without running it again). */
  async function planOf(call: () => Promise<unknown>): Promise<string> {
    last = null;
    await call();
    const statement = last as { text: string; params: unknown[] } | null;
    if (statement === null) throw new Error('the store ran no statement');
    const { rows } = await pool.query(`EXPLAIN ${statement.text}`, statement.params);
    return (rows as Record<string, string>[]).map((r) => r['QUERY PLAN']).join('\n');
  }

  const page = (input: Partial<SearchDeliveriesInput>): SearchDeliveriesInput => ({
    scope: 'acme',
    webhookId: null,
    states: null,
    types: null,
    since: null,
    until: null,
    id: null,
    cursor: null,
    limit: 50,
    ...input,
  });

  const noSeqScan = /Seq Scan on (deliveries|attempts)/;

  it('plans every page of the log as a range scan of a migration 6 index (or by primary key)', async () => {
    const second = await store.searchDeliveries(page({ until: new Date(END - 7 * DAY) }));
    expect(second.cursor).not.toBeNull();
    const cases: [Partial<SearchDeliveriesInput>, RegExp][] = [
      [{}, /Index Scan Backward using deliveries_log on/],
      [{ states: ['failed'] }, /Index Scan Backward using deliveries_log_failed/],
      [{ states: ['canceled', 'failed'] }, /deliveries_log_failed[\s\S]*deliveries_log_failed/],
      [{ states: ['succeeded'] }, /deliveries_log on/],
      [{ types: ['order.paid'] }, /Index Scan Backward using deliveries_log on/],
      [{ types: ['order.paid', 'invoice.paid'] }, /Index Scan Backward using deliveries_log on/],
      [{ webhookId: hooks[2] as number }, /Index Scan Backward using deliveries_by_webhook/],
      [{ webhookId: hooks[2] as number, states: ['failed'] }, /deliveries_by_webhook|deliveries_log_failed/],
      [{ id: 'msg_0000012345' }, /notifications_pkey[\s\S]*deliveries_pkey/],
      [{ id: 'ntf_4321' }, /notifications_pkey[\s\S]*deliveries_pkey/],
      [
        { since: new Date(END - 8 * DAY), until: new Date(END - 7 * DAY) },
        /Index Scan Backward using deliveries_log on/,
      ],
      [{ cursor: second.cursor }, /Index Scan Backward using deliveries_log on/],
      [
        { states: ['failed'], types: ['order.paid'], since: new Date(END - 20 * DAY), cursor: second.cursor },
        /deliveries_log_failed/,
      ],
    ];
    for (const [input, index] of cases) {
      const plan = await planOf(() => store.searchDeliveries(page(input)));
      expect(plan, JSON.stringify(input)).toMatch(index);
      expect(plan, JSON.stringify(input)).not.toMatch(noSeqScan);
    }
    // Pending rows (few, and recent) come through a pending index or the log, never a table scan.
    expect(await planOf(() => store.searchDeliveries(page({ states: ['pending'] })))).not.toMatch(noSeqScan);
    // listDeliveries reads the same webhook index, in the same order.
    const list = await planOf(() =>
      store.listDeliveries({ scope: 'acme', webhookId: hooks[2] as number, offset: 0, limit: 50 }),
    );
    expect(list).toMatch(/Index Scan Backward using deliveries_by_webhook/);
    expect(list).not.toMatch(noSeqScan);
  });

  it('plans webhookActivity as index-only scans of attempts_activity, for 24 hours and for 7 days', async () => {
    const ids = hooks.slice(0, 20);
    for (const days of [1, 7]) {
      const plan = await planOf(() =>
        store.webhookActivity({
          scope: 'acme',
          webhookIds: ids,
          since: new Date(END - days * DAY),
          until: new Date(END),
          bucketMs: HOUR,
        }),
      );
      expect(plan).toMatch(
        /Index Only Scan using attempts_activity[\s\S]*Index Only Scan Backward using attempts_activity/,
      );
      expect(plan).not.toMatch(noSeqScan);
    }
  });

  /** Every page of `input` from the newest, following cursors; the ids in order, and how many pages. */
  async function pageThrough(input: SearchDeliveriesInput): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const result = await store.searchDeliveries({ ...input, cursor });
      pages += 1;
      if (result.cursor !== null) expect(result.items).toHaveLength(input.limit);
      ids.push(...result.items.map((d) => d.id));
      cursor = result.cursor;
    } while (cursor !== null);
    return { ids, pages };
  }

  async function sqlIds(where: string, params: unknown[]): Promise<string[]> {
    const { rows } = await pool.query(
      `SELECT id FROM ${s}.deliveries WHERE scope = 'acme' AND ${where} ORDER BY created_at DESC, seq DESC`,
      params,
    );
    return (rows as { id: string }[]).map((r) => r.id);
  }

  it('pages through filtered logs with cursors in exactly the order SQL gives, ties and an earlier clock included', async () => {
    const states: DeliveryState[] = ['failed', 'canceled'];
    const hook = hooks[4] as number;
    const bad = await pageThrough(page({ webhookId: hook, states, limit: 20 }));
    const expected = await sqlIds(`webhook_id = $1 AND state IN ('failed', 'canceled')`, [hook]);
    expect(expected.length).toBeGreaterThan(60);
    expect(bad.ids).toEqual(expected);
    expect(bad.pages).toBe(Math.ceil(expected.length / 20));

    const since = new Date(END - 20 * DAY);
    const until = new Date(END - 5 * DAY);
    const paid = await pageThrough(
      page({ types: ['order.paid', 'order.refunded'], since, until, limit: 500 }),
    );
    const paidExpected = await sqlIds(
      `type IN ('order.paid', 'order.refunded') AND created_at >= $1 AND created_at < $2`,
      [since.toISOString(), until.toISOString()],
    );
    expect(paidExpected.length).toBeGreaterThan(2_000);
    expect(paid.ids).toEqual(paidExpected);

    // The whole scope, unfiltered: nothing lost or repeated across a hundred pages.
    const all = await pageThrough(page({ limit: 500 }));
    expect(all.ids).toEqual(await sqlIds('true', []));
  });

  it('counts, buckets and percentiles of webhookActivity agree with plain SQL over 24 hours', async () => {
    const ids = [...hooks.slice(0, 21), hooks[30] as number, 999_999];
    const since = new Date(END - DAY);
    const activity = await store.webhookActivity({
      scope: 'acme',
      webhookIds: ids,
      since,
      until: new Date(END),
      bucketMs: HOUR,
    });
    expect(activity.map((a) => a.webhookId)).toEqual(ids);
    const { rows } = await pool.query(
      `SELECT webhook_id, count(*) FILTER (WHERE ok)::int AS succeeded,
              count(*) FILTER (WHERE NOT ok AND status > 0)::int AS failed,
              count(*) FILTER (WHERE status = 0)::int AS errored,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
              (SELECT count(*)::int FROM ${s}.attempts AS b WHERE b.scope = 'acme' AND b.webhook_id = a.webhook_id
                  AND b.started_at >= $1::timestamptz + interval '5 hours' AND b.started_at < $1::timestamptz + interval '6 hours') AS sixth
         FROM ${s}.attempts AS a
        WHERE scope = 'acme' AND started_at >= $1 AND started_at < $2
        GROUP BY webhook_id`,
      [since.toISOString(), new Date(END).toISOString()],
    );
    const expected = new Map((rows as { webhook_id: string }[]).map((r) => [Number(r.webhook_id), r]));
    let attempts = 0;
    for (const entry of activity) {
      const row = expected.get(entry.webhookId) as
        | { succeeded: number; failed: number; errored: number; p50: number; p95: number; sixth: number }
        | undefined;
      expect(entry.buckets).toHaveLength(24);
      expect(entry.buckets[5]?.start).toEqual(new Date(since.getTime() + 5 * HOUR));
      if (row === undefined) {
        expect(entry).toMatchObject({ succeeded: 0, failed: 0, errored: 0, p50DurationMs: null });
        continue;
      }
      attempts += row.succeeded + row.failed + row.errored;
      expect(entry).toMatchObject({
        succeeded: row.succeeded,
        failed: row.failed,
        errored: row.errored,
        p50DurationMs: row.p50,
        p95DurationMs: row.p95,
      });
      const sixth = entry.buckets[5];
      expect((sixth?.succeeded ?? 0) + (sixth?.failed ?? 0) + (sixth?.errored ?? 0)).toBe(row.sixth);
      const total = entry.buckets.reduce((sum, b) => sum + b.succeeded + b.failed + b.errored, 0);
      expect(total).toBe(row.succeeded + row.failed + row.errored);
    }
    expect(attempts).toBeGreaterThan(8_000);
    // The newest attempt ever of each webhook (the data's last ones are after the window).
    const newest = await pool.query(
      `SELECT DISTINCT ON (webhook_id) webhook_id, started_at, status, ok, duration_ms FROM ${s}.attempts
        WHERE scope = 'acme' ORDER BY webhook_id, started_at DESC, id DESC`,
    );
    for (const row of newest.rows as {
      webhook_id: string;
      started_at: Date;
      status: number;
      ok: boolean;
      duration_ms: number;
    }[]) {
      const entry = activity.find((a) => a.webhookId === Number(row.webhook_id));
      expect(entry?.lastAttempt).toEqual({
        startedAt: row.started_at,
        status: row.status,
        ok: row.ok,
        durationMs: row.duration_ms,
      });
    }
    expect(activity.find((a) => a.webhookId === hooks[30])?.lastAttempt).toBeNull();
  });
});
