/**
 * Statistics of a young outbox: `claimDue` analyzes `deliveries` and `attempts` when they have
 * changed ANALYZE_GROWTH times as often as they had rows at their last ANALYZE (and at least
 * ANALYZE_MIN_CHANGES times),
 * at most once per STATISTICS_INTERVAL_MS, so the prepared statements' generic plans made on a
 * near-empty table (sequential scans) are made again before autovacuum comes round.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';
import {
  ANALYZE_GROWTH,
  ANALYZE_MIN_CHANGES,
  recordAttempts,
  statementContext,
} from '../../src/stores/postgres/statements.js';
import { STATISTICS_INTERVAL_MS } from '../../src/stores/postgres/store.js';
import { insertHook, newDelivery } from '../../src/testing/conformance/fixtures.js';
import { DATABASE_URL, describeServer, dropSchema, uniqueSchema } from './helpers.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** Enqueues `count` notifications of one delivery each, due at T0. */
async function fill(store: PostgresStore, webhookId: number, count: number, from = 0): Promise<void> {
  const items = Array.from({ length: count }, (_, i) => ({
    scope: 'acme',
    notificationId: `ntf_${from + i}`,
    deliveries: [newDelivery(webhookId)],
  }));
  for (let i = 0; i < items.length; i += 500) {
    await store.enqueueMany?.({ items: items.slice(i, i + 500), now: new Date(T0) });
  }
}

type Query = (text: string) => Promise<{ rows: Record<string, unknown>[] }>;

/** How often `deliveries` was analyzed, and its changes since. */
async function analyzed(query: Query, schema: string) {
  // This connection's own counts reach the shared statistics at once.
  await query('SELECT pg_stat_force_next_flush()');
  const { rows } = await query(
    `SELECT analyze_count, n_mod_since_analyze FROM pg_stat_user_tables
      WHERE schemaname = '${schema}' AND relname = 'deliveries'`,
  );
  return { count: Number(rows[0]?.analyze_count ?? 0), changes: Number(rows[0]?.n_mod_since_analyze ?? 0) };
}

/**
 * The record statement prepared as the store prepares it, with PostgreSQL told to keep its
 * generic plan (as it does after five runs when that looks as cheap): `plan()` shows the plan in
 * use, made when it was first run or again after the table's statistics changed.
 */
async function recordProbe(query: Query, schema: string) {
  const text = recordAttempts(statementContext(schema, false), 'unordered').text;
  await query('SET plan_cache_mode = force_generic_plan');
  await query(`PREPARE hookline_plan_probe(jsonb) AS ${text}`);
  return {
    async plan(): Promise<string> {
      const { rows } = await query(`EXPLAIN EXECUTE hookline_plan_probe('[]')`);
      return rows.map((row) => String(Object.values(row)[0])).join('\n');
    },
    async end(): Promise<void> {
      await query('DEALLOCATE hookline_plan_probe');
      await query('RESET plan_cache_mode');
    },
  };
}

describeServer('PostgreSQL store: statistics of a young outbox', () => {
  let client: pg.Client;
  let schema: string;
  let store: PostgresStore;
  const query: Query = (text) => client.query(text) as Promise<{ rows: Record<string, unknown>[] }>;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: DATABASE_URL });
    client.on('error', () => undefined);
    await client.connect();
  });
  afterEach(async () => {
    await store?.close();
    // A failed test may have left its probe's plan mode and statement behind.
    await client.query('RESET plan_cache_mode');
    await client.query('DEALLOCATE hookline_plan_probe').catch(() => undefined);
    await dropSchema(client, schema);
  });
  afterAll(async () => {
    await client.end();
  });

  async function fresh(): Promise<number> {
    schema = uniqueSchema();
    store = postgresStore({ db: client, schema, notify: false });
    await store.migrate();
    return insertHook(store);
  }

  it('analyzes a table that grew past its statistics, at most once per interval, and the record plan then reads by key', async () => {
    const webhookId = await fresh();
    // Planned while the table is empty, the record statement reads it through, and goes on so
    // as the table grows (big enough here for a hundred lookups by key to beat that).
    const probe = await recordProbe(query, schema);
    expect(await probe.plan()).toMatch(/Seq Scan on deliveries/);
    await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(T0) }); // nothing to analyze yet
    await fill(store, webhookId, 12 * ANALYZE_MIN_CHANGES);
    expect(await analyzed(query, schema)).toEqual({ count: 0, changes: 12 * ANALYZE_MIN_CHANGES });
    expect(await probe.plan()).toMatch(/Seq Scan on deliveries/);

    // Within the interval of the last look: not yet.
    await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(T0 + STATISTICS_INTERVAL_MS - 1) });
    expect((await analyzed(query, schema)).count).toBe(0);
    await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(T0 + STATISTICS_INTERVAL_MS) });
    expect((await analyzed(query, schema)).count).toBe(1);
    const plan = await probe.plan();
    await probe.end();
    expect(plan).toMatch(/Index Scan using deliveries_pkey on deliveries/);
    expect(plan).not.toMatch(/Seq Scan on deliveries/);
  });

  it('leaves a table alone below the fewest changes, and until it changed ANALYZE_GROWTH times as often as it had rows', async () => {
    const webhookId = await fresh();
    await fill(store, webhookId, ANALYZE_MIN_CHANGES - 10);
    expect((await analyzed(query, schema)).changes).toBe(ANALYZE_MIN_CHANGES - 10);
    await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(T0) });
    expect((await analyzed(query, schema)).count).toBe(0);

    // Never analyzed, 2 191 changes: analyzed, with 2 190 rows.
    const rows = ANALYZE_MIN_CHANGES - 10 + ANALYZE_MIN_CHANGES + 200;
    await fill(store, webhookId, ANALYZE_MIN_CHANGES + 200, 10_000);
    expect(await analyzed(query, schema)).toEqual({ count: 0, changes: rows + 1 }); // and the first claim
    await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(T0 + STATISTICS_INTERVAL_MS) });
    expect((await analyzed(query, schema)).count).toBe(1);

    // As many changes as rows, and more than the fewest: not yet.
    await fill(store, webhookId, rows, 20_000);
    expect((await analyzed(query, schema)).changes).toBeGreaterThanOrEqual(rows);
    await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(T0 + 2 * STATISTICS_INTERVAL_MS) });
    expect((await analyzed(query, schema)).count).toBe(1);

    // Past ANALYZE_GROWTH times the rows of the last ANALYZE: again.
    await fill(store, webhookId, (ANALYZE_GROWTH - 1) * rows + 10, 30_000);
    expect((await analyzed(query, schema)).changes).toBeGreaterThan(ANALYZE_GROWTH * rows);
    await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(T0 + 3 * STATISTICS_INTERVAL_MS) });
    expect((await analyzed(query, schema)).count).toBe(2);
  });

  it('claims as before when the role may not analyze the tables (PostgreSQL warns and skips)', async () => {
    const webhookId = await fresh();
    await fill(store, webhookId, ANALYZE_MIN_CHANGES + 200);
    const role = `${schema}_reader`;
    await query(`CREATE ROLE "${role}"`);
    await query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
    // Not ALL: from PostgreSQL 17 that includes MAINTAIN, which may analyze.
    await query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO "${role}"`);
    await query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA "${schema}" TO "${role}"`);
    expect((await analyzed(query, schema)).changes).toBeGreaterThan(ANALYZE_MIN_CHANGES);
    const notices: string[] = [];
    const onNotice = (notice: { message?: string | undefined }): void => {
      notices.push(notice.message ?? '');
    };
    client.on('notice', onNotice);
    await query(`SET ROLE "${role}"`);
    try {
      const claims = await store.claimDue({ limit: 5, leaseMs: 60_000, now: new Date(T0) });
      expect(claims).toHaveLength(5);
    } finally {
      await query('RESET ROLE');
      client.off('notice', onNotice);
      await query(`DROP OWNED BY "${role}"`);
      await query(`DROP ROLE "${role}"`);
    }
    expect(notices.some((message) => /only table or database owner can analyze/.test(message))).toBe(true);
    expect((await analyzed(query, schema)).count).toBe(0);
  });
});

describe('PGlite store: statistics of a young outbox (PGlite has no autovacuum)', () => {
  it('analyzes deliveries once it grew past its statistics', async () => {
    const db = await PGlite.create();
    try {
      const schema = 'hookline';
      const store = postgresStore({ db, schema, notify: false });
      await store.migrate();
      await fill(store, await insertHook(store), ANALYZE_MIN_CHANGES + 200);
      const query: Query = (text) => db.query(text) as Promise<{ rows: Record<string, unknown>[] }>;
      expect(await analyzed(query, schema)).toEqual({ count: 0, changes: ANALYZE_MIN_CHANGES + 200 });
      await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(T0) });
      expect((await analyzed(query, schema)).count).toBe(1);
      const { rows } = await db.query<{ n: number }>(
        `SELECT reltuples AS n FROM pg_class WHERE oid = '"${schema}".deliveries'::regclass`,
      );
      expect(Number(rows[0]?.n)).toBe(ANALYZE_MIN_CHANGES + 200);
    } finally {
      await db.close();
    }
  });
});
