import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { preparedStatementName } from '../../src/stores/postgres/store.js';
import { newDelivery, webhookFields } from '../../src/testing/conformance-index.js';
import { describeServer, dropSchema, serverPool, successes, uniqueSchema } from './helpers.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');

it('names a prepared statement after its text: equal texts share a name, different ones never do', () => {
  const a = preparedStatementName('SELECT 1 FROM "s1".deliveries');
  expect(preparedStatementName('SELECT 1 FROM "s1".deliveries')).toBe(a);
  expect(preparedStatementName('SELECT 1 FROM "s2".deliveries')).not.toBe(a);
  expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63); // PostgreSQL's identifier limit
  expect(a).toMatch(/^hookline_[0-9a-f]{40}$/);
});

describeServer('several stores on one pool', () => {
  // One connection, so every store's prepared statements meet on it.
  let pool: pg.Pool;
  beforeAll(() => {
    pool = serverPool({ max: 1 });
  });
  afterAll(() => pool.end());

  /** Runs each store's hot statements in an order that gives them different first statements. */
  async function exercise(stores: ReturnType<typeof postgresStore>[]) {
    const [first, second] = stores as [ReturnType<typeof postgresStore>, ReturnType<typeof postgresStore>];
    await first.claimDue({ limit: 8, leaseMs: 1000, now: T0 });
    await second.outboxSummary({ now: T0 });
    await second.claimDue({ limit: 8, leaseMs: 1000, now: T0 });
    await first.outboxSummary({ now: T0 });
    // Each store enqueues one delivery, claims it and records it (one claim each, so every
    // store's enqueue, claim and record statements run on the shared connection).
    for (const store of stores) {
      const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
      const d = newDelivery(hook.id);
      await store.enqueue({ scope: 'a', notificationId: `n-${hook.id}`, deliveries: [d], now: T0 });
      const claims = await store.claimDue({ limit: 8, leaseMs: 60_000, now: T0 });
      expect(claims.map((c) => c.id)).toEqual([d.id]);
      const results = await store.recordAttempts({ items: successes(claims, T0) });
      expect(results.map((r) => r.applied)).toEqual([true]);
    }
  }

  it('two store objects for the same schema (a web registry and a worker) do not break each other', async () => {
    const schema = uniqueSchema();
    const web = postgresStore({ db: pool, schema, notify: false });
    const worker = postgresStore({ db: pool, schema, notify: false });
    try {
      await web.migrate();
      await exercise([worker, web]);
      // A store re-created (hot reload) on the same pool reuses what the first prepared.
      await exercise([postgresStore({ db: pool, schema, notify: false }), web]);
    } finally {
      await dropSchema(pool, schema);
    }
  });

  it('stores of different schemas share the pool', async () => {
    const schemas = [uniqueSchema(), uniqueSchema()];
    const stores = schemas.map((schema) => postgresStore({ db: pool, schema, notify: false }));
    try {
      for (const store of stores) await store.migrate();
      await exercise(stores);
    } finally {
      for (const schema of schemas) await dropSchema(pool, schema);
    }
  });
});
