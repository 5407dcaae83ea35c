import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HooklineError } from '../../src/errors.js';
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  migrate,
  type PostgresStore,
  postgresStore,
  type Queryable,
  withTransaction,
} from '../../src/stores/postgres/index.js';
import { newDelivery, webhookFields } from '../../src/testing/conformance-index.js';
import {
  DATABASE_URL,
  describeServer,
  destroyStore,
  dropRunSchemas,
  dropSchema,
  freshStore,
  serverPool,
  sleep,
  successes,
  uniqueSchema,
} from './helpers.js';
import { sharedBehaviour, waitFor } from './shared.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');

describeServer('postgres store on the real server', () => {
  let pool: pg.Pool;
  let admin: pg.Pool;
  beforeAll(() => {
    pool = serverPool();
    admin = serverPool({ max: 2 });
  });
  afterAll(async () => {
    await dropRunSchemas(admin);
    await pool.end();
    await admin.end();
  });

  /** Terminates every backend of connections opened with this application_name. */
  const terminate = async (applicationName: string) => {
    const { rows } = await admin.query(
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
      [applicationName],
    );
    return rows.length;
  };

  describe('on a pg.Pool', () => {
    sharedBehaviour(
      () => pool,
      async (fn) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await fn(client);
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        } finally {
          client.release();
        }
      },
    );
  });

  describe('on a single pg.Client', () => {
    let client: pg.Client;
    beforeAll(async () => {
      client = new pg.Client({ connectionString: DATABASE_URL });
      client.on('error', () => undefined);
      await client.connect();
    });
    afterAll(async () => {
      await client.end();
    });
    sharedBehaviour(
      () => client,
      (fn) => withTransaction(client, fn),
    );
  });

  it('lets two processes migrate at once: one applies, the other waits and finds nothing to do', async () => {
    const schema = uniqueSchema();
    const other = serverPool({ max: 2 });
    try {
      const results = await Promise.all([migrate({ db: pool, schema }), migrate({ db: other, schema })]);
      expect(results.map((r) => r.applied).sort()).toEqual([[], MIGRATIONS.map((m) => m.version)]);
      expect(results.every((r) => r.to === LATEST_SCHEMA_VERSION)).toBe(true);
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".migrations`);
      expect(rows).toEqual([{ n: MIGRATIONS.length }]);
    } finally {
      await other.end();
      await dropSchema(pool, schema);
    }
  });

  it('nests withTransaction() in a host transaction as a savepoint', async () => {
    const store = await freshStore(pool);
    const client = await pool.connect();
    try {
      const table = `"${store.schema}".orders`;
      await client.query(`CREATE TABLE ${table} (id integer PRIMARY KEY)`);
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} (id) VALUES (1)`);
      await expect(
        withTransaction(client, async (tx) => {
          await tx.query(`INSERT INTO ${table} (id) VALUES (2)`);
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      await withTransaction(client, (tx) => tx.query(`INSERT INTO ${table} (id) VALUES (3)`));
      await client.query('COMMIT');
      const { rows } = await pool.query(`SELECT id FROM ${table} ORDER BY id`);
      expect(rows).toEqual([{ id: 1 }, { id: 3 }]);
    } finally {
      client.release();
      await destroyStore(store);
    }
  });

  it('wakes a watcher in another process (another pool) and over notify.connect', async () => {
    const schema = uniqueSchema();
    const otherPool = serverPool({ max: 2 });
    const listenerClients: pg.Client[] = [];
    const emitter = postgresStore({ db: pool, schema });
    const worker = postgresStore({
      db: otherPool,
      schema,
      notify: {
        connect: async () => {
          const client = new pg.Client({ connectionString: DATABASE_URL });
          client.on('error', () => undefined);
          await client.connect();
          listenerClients.push(client);
          return client;
        },
      },
    });
    try {
      await emitter.migrate();
      let wakes = 0;
      const unwatch = await worker.watch!(() => {
        wakes++;
      });
      const hook = await emitter.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
      await emitter.enqueue({ scope: 'a', notificationId: 'n', deliveries: [newDelivery(hook.id)], now: T0 });
      await waitFor(() => wakes === 1);
      await unwatch();
      expect(listenerClients).toHaveLength(1);
    } finally {
      await worker.close();
      await emitter.close();
      await otherPool.end();
      await dropSchema(pool, schema);
    }
  });

  it('re-listens after its LISTEN connection is killed, waking listeners once', async () => {
    const app = `hookline_listen_${randomBytes(4).toString('hex')}`;
    const listenPool = serverPool({ max: 2, application_name: app });
    const store = await freshStore(listenPool);
    try {
      let wakes = 0;
      const unwatch = await store.watch!(() => {
        wakes++;
      });
      expect(await terminate(app)).toBeGreaterThan(0);
      await waitFor(() => wakes >= 1, 10_000);
      const before = wakes;
      const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
      await store.enqueue({ scope: 'a', notificationId: 'n', deliveries: [newDelivery(hook.id)], now: T0 });
      await waitFor(() => wakes > before, 10_000);
      await unwatch();
    } finally {
      await destroyStore(store);
      await listenPool.end();
    }
  });

  describe('faults', () => {
    let app: string;
    let faultPool: pg.Pool;
    let store: PostgresStore;
    beforeAll(async () => {
      app = `hookline_fault_${randomBytes(4).toString('hex')}`;
      faultPool = serverPool({ max: 4, application_name: app });
      store = await freshStore(faultPool);
    });
    afterAll(async () => {
      await destroyStore(store);
      await faultPool.end();
    });

    /** Runs `call` while `blocker` holds a lock it needs, kills the waiting backend, then lets go. */
    const killWhileBlocked = async <T>(lockSql: string, call: () => Promise<T>) => {
      const blocker = await admin.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(lockSql);
        const pending = call().then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        // Wait until the call is blocked on the lock, then kill it.
        const deadline = Date.now() + 10_000;
        for (;;) {
          const { rows } = await admin.query(
            `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
            [app],
          );
          if (rows.length > 0) break;
          if (Date.now() > deadline) throw new Error('the call never blocked');
          await sleep(20);
        }
        await terminate(app);
        return await pending;
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        blocker.release();
      }
    };

    it('rejects a claim whose connection dies with store_failed, and the next claim gets everything', async () => {
      const hook = await store.insertWebhook({ scope: 'f', fields: webhookFields(), now: T0 });
      const batch = Array.from({ length: 20 }, () => newDelivery(hook.id));
      await store.enqueue({ scope: 'f', notificationId: 'claim', deliveries: batch, now: T0 });
      const result = await killWhileBlocked(
        `LOCK TABLE "${store.schema}".deliveries IN ACCESS EXCLUSIVE MODE`,
        () => store.claimDue({ limit: 100, leaseMs: 60_000, now: T0 }),
      );
      expect(result.ok).toBe(false);
      expect((result as { error: unknown }).error).toBeInstanceOf(HooklineError);
      expect((result as { error: HooklineError }).error.code).toBe('store_failed');
      const claimed = await store.claimDue({ limit: 100, leaseMs: 60_000, now: T0 });
      expect(claimed.map((d) => d.id).sort()).toEqual(batch.map((d) => d.id).sort());
      await store.cancelPending({ scope: 'f', webhookId: hook.id, reason: 'done', now: T0 });
    });

    it('rejects a record whose connection dies with store_failed; the lease still holds and a retry applies', async () => {
      const hook = await store.insertWebhook({ scope: 'f', fields: webhookFields(), now: T0 });
      const d = newDelivery(hook.id);
      await store.enqueue({ scope: 'f', notificationId: 'record', deliveries: [d], now: T0 });
      const [claim] = await store.claimDue({ limit: 1, leaseMs: 60_000, now: T0 });
      const record = async () =>
        (
          await store.recordAttempts({
            items: [
              {
                deliveryId: d.id,
                leaseToken: claim!.leaseToken,
                attempt: {
                  startedAt: T0,
                  durationMs: 5,
                  status: 200,
                  ok: true,
                  error: null,
                  responseBody: 'ok',
                  responseHeaders: {},
                },
                outcome: { state: 'succeeded' },
                now: T0,
              },
            ],
          })
        )[0];
      const result = await killWhileBlocked(
        `SELECT 1 FROM "${store.schema}".deliveries WHERE id = '${d.id}' FOR UPDATE`,
        record,
      );
      expect(result.ok).toBe(false);
      expect((result as { error: HooklineError }).error.code).toBe('store_failed');
      expect(
        await store.listAttempts({ scope: 'f', deliveryId: d.id, offset: 0, limit: null }),
      ).toMatchObject({
        count: 0,
      });
      expect(await record()).toMatchObject({ applied: true });
      expect(await store.getDelivery({ scope: 'f', id: d.id })).toMatchObject({
        state: 'succeeded',
        attemptCount: 1,
      });
    });

    it('recovers after every pooled connection is terminated, losing nothing', async () => {
      const hook = await store.insertWebhook({ scope: 'g', fields: webhookFields(), now: T0 });
      const batch = Array.from({ length: 10 }, () => newDelivery(hook.id));
      await store.enqueue({ scope: 'g', notificationId: 'all', deliveries: batch, now: T0 });
      // Warm several pooled connections, then kill them all while idle.
      await Promise.all(Array.from({ length: 4 }, () => store.outboxSummary({ now: T0 })));
      expect(await terminate(app)).toBeGreaterThan(0);
      await sleep(50);
      let claimed: string[] = [];
      let failures = 0;
      for (let i = 0; i < 5 && claimed.length === 0; i++) {
        try {
          claimed = (await store.claimDue({ limit: 100, leaseMs: 60_000, now: T0 })).map((c) => c.id);
        } catch (error) {
          expect(error).toMatchObject({ code: 'store_failed' });
          failures++;
        }
      }
      expect(failures).toBeLessThan(5);
      expect(claimed.sort()).toEqual(batch.map((d) => d.id).sort());
    });
  });

  /**
   * A store whose statements are recorded, and `planOf(call)`: the plan of the last statement
   * `call` sends, as text.
   */
  const plannedStore = () => {
    const captured: { text: string; params: unknown[] }[] = [];
    const recording: Queryable = {
      query: (text, params) => {
        captured.push({ text, params: params ?? [] });
        return pool.query(text, params);
      },
    };
    const store = postgresStore({ db: recording, schema: uniqueSchema() });
    const planOf = async (
      call: () => Promise<unknown>,
      options: { noSeqscan?: boolean; generic?: boolean } = {},
    ) => {
      captured.length = 0;
      await call();
      const statement = captured.at(-1)!;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        if (options.noSeqscan) await client.query('SET LOCAL enable_seqscan = off');
        let explain = `EXPLAIN ${statement.text}`;
        if (options.generic) {
          // The plan a prepared statement settles on after its first five runs.
          await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
          await client.query(`PREPARE plan_probe AS ${statement.text}`);
          const args = statement.params.map((p) => client.escapeLiteral(String(p)));
          explain = `EXPLAIN EXECUTE plan_probe(${args.join(', ')})`;
        }
        const { rows } = await client.query(explain, options.generic ? [] : statement.params);
        const plan = rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
        if (process.env.SHOW_PLANS) console.log(plan);
        return plan;
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };
    return { store, planOf };
  };

  describe('indexes', () => {
    const { store, planOf } = plannedStore();
    let webhookId: number;
    beforeAll(async () => {
      await store.migrate();
      const s = `"${store.schema}"`;
      for (let i = 0; i < 200; i++) {
        await store.insertWebhook({
          scope: `scope${i % 20}`,
          fields: webhookFields({ key: `k${i}` }),
          now: T0,
        });
      }
      webhookId = (await store.getWebhookByKey({ scope: 'scope3', key: 'k3' }))!.id;
      // 50 000 finished deliveries over 200 webhooks, 100 pending ones, 100 000 attempts.
      await pool.query(
        `INSERT INTO ${s}.deliveries (id, scope, webhook_id, notification_id, type, event, request, state,
           attempt_count, next_attempt_at, created_at, updated_at)
         SELECT 'msg_' || g, 'scope' || (g % 20), (SELECT min(id) FROM ${s}.webhooks) + (g % 200), 'n' || g, 't', NULL,
           '{}'::jsonb, CASE WHEN g % 500 = 0 THEN 'pending' ELSE 'succeeded' END, 1,
           CASE WHEN g % 500 = 0 THEN now() END, now(), now()
           FROM generate_series(1, 50000) AS g`,
      );
      await pool.query(
        `INSERT INTO ${s}.attempts (delivery_id, scope, webhook_id, attempt_number, retry, started_at, duration_ms,
           status, ok, error, response_body, response_headers)
         SELECT 'msg_' || (g % 50000 + 1), 'scope0', 1, 1, false, now() - (g || ' seconds')::interval, 1, 200, true,
           NULL, '', '{}'::jsonb
           FROM generate_series(1, 100000) AS g`,
      );
      await pool.query(`ANALYZE ${s}.webhooks`);
      await pool.query(`ANALYZE ${s}.deliveries`);
      await pool.query(`ANALYZE ${s}.attempts`);
    }, 60_000);
    afterAll(async () => {
      await destroyStore(store);
    });

    it('claims through the partial due index', async () => {
      const claim = () => store.claimDue({ limit: 32, leaseMs: 1, now: new Date(0) });
      expect(await planOf(claim)).toMatch(/deliveries_due/);
      expect(await planOf(claim, { generic: true })).toMatch(/deliveries_due/);
      expect(await planOf(() => store.outboxSummary({ now: new Date(0) }))).toMatch(/deliveries_due/);
    });

    it('takes outbox stats from the pending rows alone, a scope’s through (scope, next_attempt_at)', async () => {
      for (const input of [
        {},
        { perScope: true },
        { scope: 'scope3' },
        { scope: 'scope3', perScope: true },
      ]) {
        const plan = await planOf(() => store.outboxStats!({ now: T0, ...input }));
        expect(plan).toMatch(
          'scope' in input ? /deliveries_pending_by_scope/ : /deliveries_due|deliveries_pending/,
        );
        expect(plan).not.toMatch(/Seq Scan on deliveries/);
      }
    });

    it('lists and cancels a webhook’s deliveries through (scope, webhook_id, created_at, seq)', async () => {
      expect(
        await planOf(() => store.listDeliveries({ scope: 'scope3', webhookId, offset: 0, limit: 50 })),
      ).toMatch(/deliveries_by_webhook/);
      expect(
        await planOf(() => store.cancelPending({ scope: 'scope3', webhookId, reason: 'x', now: T0 })),
      ).toMatch(/deliveries_by_webhook/);
    });

    it('finds webhooks by key and lists a scope through their indexes', async () => {
      expect(
        await planOf(() => store.getWebhookByKey({ scope: 'scope3', key: 'k3' }), { noSeqscan: true }),
      ).toMatch(/webhooks_scope_key/);
      expect(
        await planOf(() => store.listWebhooks({ scope: 'scope3', offset: 0, limit: 10 }), {
          noSeqscan: true,
        }),
      ).toMatch(/webhooks_scope_id/);
    });

    it('reads and purges attempts through their indexes, and deliveries by primary key', async () => {
      expect(
        await planOf(() =>
          store.listAttempts({ scope: 'scope0', deliveryId: 'msg_7', offset: 0, limit: 10 }),
        ),
      ).toMatch(/attempts_by_delivery/);
      expect(await planOf(() => store.purgeAttempts({ before: new Date(Date.now() - 99_990_000) }))).toMatch(
        /attempts_started_at/,
      );
      expect(await planOf(() => store.getDelivery({ scope: 'scope0', id: 'msg_7' }))).toMatch(
        /deliveries_pkey/,
      );
    });
  });

  describe('recording before the attempts table has statistics', () => {
    const { store, planOf } = plannedStore();
    afterAll(async () => {
      await destroyStore(store);
    });

    it('probes attempts by index instead of scanning the whole table', async () => {
      await store.migrate();
      const s = `"${store.schema}"`;
      const webhook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
      // 5 000 finished deliveries with one attempt each, never analyzed (as before autovacuum's
      // first pass), and 32 due ones.
      await pool.query(
        `INSERT INTO ${s}.deliveries (id, scope, webhook_id, notification_id, type, event, request, state,
           attempt_count, next_attempt_at, created_at, updated_at)
         SELECT 'msg_' || g, 'a', $1, 'n' || g, 't', NULL, '{}'::jsonb,
           CASE WHEN g <= 32 THEN 'pending' ELSE 'succeeded' END, 0, now() - interval '1 minute', now(), now()
           FROM generate_series(1, 5032) AS g`,
        [webhook.id],
      );
      await pool.query(
        `INSERT INTO ${s}.attempts (delivery_id, scope, webhook_id, attempt_number, retry, started_at, duration_ms,
           status, ok, error, response_body, response_headers)
         SELECT 'msg_' || g, 'a', $1, 1, false, now(), 1, 200, true, NULL, '', '{}'::jsonb
           FROM generate_series(33, 5032) AS g`,
        [webhook.id],
      );
      const claimed = await store.claimDue({ limit: 32, leaseMs: 60_000, now: new Date() });
      expect(claimed).toHaveLength(32);
      const plan = await planOf(() => store.recordAttempts({ items: successes(claimed, T0) }));
      expect(plan).toMatch(/attempts_by_delivery/);
      expect(plan).not.toMatch(/Seq Scan on (\S+\.)?attempts/);
    });
  });
});
