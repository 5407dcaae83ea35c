/**
 * Bulk recovery on the real PostgreSQL server at volume: 10 000 failed deliveries re-queued
 * exactly when in range, a second run queueing nothing, concurrent runs queueing each once,
 * and the scan going through the `deliveries_finished` index.
 */
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type NewDelivery, type RecoverProgress, WebhookRegistry } from '../../src/index.js';
import type { PostgresStore } from '../../src/stores/postgres/index.js';
import * as statements from '../../src/stores/postgres/statements.js';
import { createFakeClock } from '../../src/testing/index.js';
import { describeServer, destroyStore, dropRunSchemas, freshStore, serverPool } from '../postgres/helpers.js';

const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const HOUR = 3_600_000;

describeServer('recover on the real server', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = serverPool();
  });
  afterAll(async () => {
    await dropRunSchemas(pool);
    await pool.end();
  });

  /**
   * Stores `count` deliveries of `webhookId` in `scope` that failed (a render failure stores a
   * delivery `failed` at once, through the store's own enqueue) at `at(i)`, 100 per
   * notification; returns their ids.
   */
  async function failMany(
    store: PostgresStore,
    scope: string,
    webhookId: number,
    count: number,
    at: (i: number) => number,
    tag: string,
  ): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < count; start += 100) {
      const deliveries: NewDelivery[] = [];
      for (let i = start; i < Math.min(count, start + 100); i++) {
        const id = `msg_${tag}_${String(i).padStart(6, '0')}`;
        ids.push(id);
        deliveries.push({
          id,
          webhookId,
          type: 'order.paid',
          event: null,
          request: { url: 'https://down.example/hook', method: 'POST', headers: {}, body: `{"i":${i}}` },
          failure: 'HTTP 503 (receiver down)',
        });
      }
      // One notification per hundred, all failing at the first one's time.
      await store.enqueue({
        scope,
        notificationId: `ntf_${tag}_${start}`,
        deliveries,
        now: new Date(at(start)),
      });
    }
    return ids;
  }

  async function idsIn(store: PostgresStore, scope: string, state: string): Promise<Set<string>> {
    const { rows } = await pool.query(
      `SELECT id FROM "${store.schema}".deliveries WHERE scope = $1 AND state = $2`,
      [scope, state],
    );
    return new Set((rows as { id: string }[]).map((r) => r.id));
  }

  it('re-queues exactly the 10 000 failed deliveries in range; a second run queues nothing', async () => {
    const store = await freshStore(pool);
    try {
      const clock = createFakeClock({ now: T0 + 48 * HOUR });
      const registry = new WebhookRegistry({ store, clock });
      const hook = await registry.create('acme', {
        url: 'https://down.example/hook',
        eventTypes: ['order.paid'],
      });
      const other = await registry.create('other', {
        url: 'https://down.example/hook',
        eventTypes: ['order.paid'],
      });
      const since = T0 + 10 * HOUR;
      const until = T0 + 20 * HOUR;
      // 1 000 before the range, 10 000 in it (the first at `since` exactly), 1 000 from `until` on,
      // and 1 000 in range in another scope.
      const before = await failMany(store, 'acme', hook.id, 1_000, (i) => since - HOUR + i, 'b');
      const inRange = await failMany(store, 'acme', hook.id, 10_000, (i) => since + i * 3_000, 'r');
      const after = await failMany(store, 'acme', hook.id, 1_000, (i) => until + i, 'a');
      const foreign = await failMany(store, 'other', other.id, 1_000, (i) => since + i, 'o');

      const progress: RecoverProgress[] = [];
      const dry = await registry.recover({
        scope: 'acme',
        since: new Date(since),
        until: new Date(until),
        dryRun: true,
      });
      expect(dry).toEqual({ matched: 10_000, queued: 0, skipped: 0 });
      expect((await idsIn(store, 'acme', 'pending')).size).toBe(0);

      const result = await registry.recover({
        scope: 'acme',
        since: new Date(since),
        until: new Date(until),
        onProgress: (p) => progress.push(p),
      });
      expect(result).toEqual({ matched: 10_000, queued: 10_000, skipped: 0 });
      expect(progress.length).toBeGreaterThanOrEqual(20); // batches of 500
      expect(
        progress.every((p, i) => i === 0 || p.queued >= (progress[i - 1] as RecoverProgress).queued),
      ).toBe(true);
      expect(await idsIn(store, 'acme', 'pending')).toEqual(new Set(inRange));
      expect(await idsIn(store, 'acme', 'failed')).toEqual(new Set([...before, ...after]));
      expect(await idsIn(store, 'other', 'failed')).toEqual(new Set(foreign));
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM "${store.schema}".deliveries
            WHERE state = 'pending' AND attempt_count = 0 AND next_attempt_at = $1::timestamptz`,
        [new Date(clock.now()).toISOString()],
      );
      expect(rows[0]).toEqual({ n: 10_000 });
      expect((await store.outboxSummary({ now: new Date(clock.now()) })).due).toBe(10_000);

      clock.advance(1_000);
      expect(
        await registry.recover({ scope: 'acme', since: new Date(since), until: new Date(until) }),
      ).toEqual({ matched: 0, queued: 0, skipped: 0 });
      expect(await idsIn(store, 'acme', 'pending')).toEqual(new Set(inRange));
    } finally {
      await destroyStore(store);
    }
  }, 120_000);

  it('three recoveries at once over 10 000 failed deliveries queue each exactly once', async () => {
    const store = await freshStore(pool);
    try {
      const clock = createFakeClock({ now: T0 + 48 * HOUR });
      const registry = new WebhookRegistry({ store, clock });
      const hook = await registry.create('acme', {
        url: 'https://down.example/hook',
        eventTypes: ['order.paid'],
      });
      const ids = await failMany(store, 'acme', hook.id, 10_000, (i) => T0 + i * 1_000, 'c');
      const runs = await Promise.all(
        [250, 500, 1_000].map((batchSize) =>
          registry.recover({ scope: 'acme', since: new Date(T0), batchSize }),
        ),
      );
      expect(runs.reduce((sum, run) => sum + run.queued, 0)).toBe(10_000);
      expect(await idsIn(store, 'acme', 'pending')).toEqual(new Set(ids));
      expect(await idsIn(store, 'acme', 'failed')).toEqual(new Set());
    } finally {
      await destroyStore(store);
    }
  }, 120_000);

  it('scans through the deliveries_finished index on a table of 200 000 deliveries', async () => {
    const store = await freshStore(pool);
    const s = `"${store.schema}"`;
    try {
      await pool.query(`INSERT INTO ${s}.webhooks (scope, enabled, url, method, event_types, all_events, limit_events,
            secrets, created_at, updated_at)
          SELECT 'scope' || (g % 20), true, 'https://r.example/h', 'POST', '[]', true, '[]', '[]', now(), now()
            FROM generate_series(0, 199) g`);
      // 80 % succeeded, 15 % failed, 3 % canceled, 2 % pending, over 30 days, in 20 scopes.
      await pool.query(`INSERT INTO ${s}.deliveries (id, scope, webhook_id, notification_id, type, request, state,
            attempt_count, next_attempt_at, created_at, updated_at)
          SELECT 'msg_' || lpad(g::text, 10, '0'), 'scope' || (g % 20), (g % 200) + 1, 'n' || g, 'order.paid',
                 '{"url":"https://r.example/h","method":"POST","headers":{},"body":"{}"}',
                 CASE WHEN g % 100 < 80 THEN 'succeeded' WHEN g % 100 < 95 THEN 'failed'
                      WHEN g % 100 < 98 THEN 'canceled' ELSE 'pending' END,
                 1, CASE WHEN g % 100 >= 98 THEN now() END,
                 timestamptz '2026-11-01' + g * interval '12.96 seconds',
                 timestamptz '2026-11-01' + g * interval '12.96 seconds' + interval '1 minute'
            FROM generate_series(1, 200000) g`);
      await pool.query(`ANALYZE ${s}.deliveries`);
      const sql = statements.statementContext(store.schema, false);
      const explain = async (after: boolean) => {
        const statement = statements.recoverDeliveries(sql, { states: ['failed'], after, dryRun: false });
        const params: unknown[] = ['scope3', '2026-10-01T00:00:00Z', '2026-12-04T00:00:00Z', null, null, 500];
        params.push('2026-12-04T00:00:00Z');
        if (after) params.push('2026-11-15T00:00:00.000000Z', 'msg_0000100000');
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const { rows } = await client.query(`EXPLAIN ${statement.text}`, params);
          return (rows as Record<string, string>[]).map((r) => r['QUERY PLAN']).join('\n');
        } finally {
          await client.query('ROLLBACK');
          client.release();
        }
      };
      for (const after of [false, true]) {
        const plan = await explain(after);
        expect(plan).toContain('deliveries_finished');
        expect(plan).not.toMatch(/Seq Scan on deliveries/);
      }
      // And it runs: the first batch of scope3's failed deliveries.
      const store3 = await store.recoverDeliveries({
        scope: 'scope3',
        since: new Date('2026-10-01T00:00:00Z'),
        until: new Date('2026-12-04T00:00:00Z'),
        webhookId: null,
        types: null,
        states: ['failed'],
        now: new Date('2026-12-04T00:00:00Z'),
        cursor: null,
        limit: 500,
        dryRun: true,
      });
      expect(store3).toMatchObject({ matched: 500, queued: 0 });
      expect(store3.cursor).not.toBeNull();
    } finally {
      await destroyStore(store);
    }
  }, 120_000);
});
