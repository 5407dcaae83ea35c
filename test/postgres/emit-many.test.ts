/**
 * registry.emitMany() on the PostgreSQL store: one statement for the batch on the store's own
 * connection, and the host's transaction deciding for all of it with `tx`.
 */
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { describeServer, dropSchema, serverPool, uniqueSchema } from './helpers.js';

describeServer('emitMany on the PostgreSQL store', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = serverPool({ max: 4 });
  });
  afterAll(() => pool.end());

  /** A registry on a fresh schema whose statements are counted by their first words. */
  async function setup() {
    const schema = uniqueSchema();
    const statements: string[] = [];
    const counted = {
      query: (text: unknown, values?: unknown[]) => {
        const sql = typeof text === 'string' ? text : (text as { text: string }).text;
        statements.push(sql);
        return typeof text === 'string' ? pool.query(text, values) : pool.query(text as pg.QueryConfig);
      },
    };
    const store = postgresStore({ db: counted, schema, notify: false });
    await store.migrate();
    const registry = new WebhookRegistry({ store });
    await registry.create('acme', { url: 'https://receiver.example/h', eventTypes: ['pay'] });
    await registry.create('beta', { url: 'https://receiver.example/h', eventTypes: ['pay'] });
    return {
      registry,
      statements,
      schema,
      count: async () => {
        const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".deliveries`);
        return (rows[0] as { n: number }).n;
      },
      close: () => dropSchema(pool, schema),
    };
  }

  it('stores a batch across scopes in one statement, and a repeat of it in two', async () => {
    const ctx = await setup();
    try {
      const batch = Array.from({ length: 50 }, (_, n) => ({
        id: `n-${n}`,
        scope: n % 2 ? 'acme' : 'beta',
        type: 'pay',
        data: { n },
      }));
      await ctx.registry.emitMany(batch.slice(0, 1)); // loads both scopes' webhooks
      await ctx.registry.emitMany(batch.slice(1, 2));
      ctx.statements.length = 0;
      const results = await ctx.registry.emitMany(batch);
      const writes = ctx.statements.filter((sql) => /INSERT INTO/.test(sql));
      expect(writes).toHaveLength(1);
      expect(results.map((r) => r.created)).toEqual(batch.map((_, n) => n >= 2));
      expect(await ctx.count()).toBe(50);
      ctx.statements.length = 0;
      const again = await ctx.registry.emitMany(batch);
      expect(again.map((r) => r.created)).toEqual(batch.map(() => false));
      expect(again.map((r) => r.deliveryIds)).toEqual(results.map((r) => r.deliveryIds));
      // The insert that stored nothing, and one read of the ids stored before.
      expect(ctx.statements.filter((sql) => !/webhook_versions/.test(sql))).toHaveLength(2);
    } finally {
      await ctx.close();
    }
  });

  it("with tx, the host's commit or rollback decides for the whole batch", async () => {
    const ctx = await setup();
    const client = await pool.connect();
    try {
      const batch = [
        { scope: 'acme', type: 'pay', data: { n: 1 } },
        { scope: 'beta', type: 'pay', data: { n: 2 } },
      ];
      await client.query('BEGIN');
      await ctx.registry.emitMany(batch, { tx: client });
      await client.query('ROLLBACK');
      expect(await ctx.count()).toBe(0);
      await client.query('BEGIN');
      const results = await ctx.registry.emitMany(batch, { tx: client });
      expect(await ctx.count()).toBe(0); // not before the commit
      await client.query('COMMIT');
      expect(await ctx.count()).toBe(2);
      expect(results.map((r) => r.deliveries)).toEqual([1, 1]);
    } finally {
      client.release();
      await ctx.close();
    }
  });
});
