import type pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { defineRetryPolicy, type NewDelivery, WebhookRegistry } from '../../src/index.js';
import { type PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';
import { DATABASE_URL, describeServer, destroyStore, serverPool, uniqueSchema } from '../postgres/helpers.js';
import { eventually, type Receiver, runCli, startReceiver } from './helpers.js';

// Each test starts the program as a child process (tsx compiles it each time): slow on a busy machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const HOUR = 3_600_000;

describeServer('hookline recover and cancel', () => {
  let pool: pg.Pool;
  let store: PostgresStore;
  let registry: WebhookRegistry;
  let receiver: Receiver;
  let schema: string;
  const cli = (...args: string[]) => runCli([...args, '--schema', schema], { env: { DATABASE_URL } });

  /** Emits `count` notifications and lets an in-process worker fail them all (500, one attempt). */
  const failMany = async (scope: string, count: number) => {
    for (let i = 0; i < count; i++)
      await registry.emit({ scope, type: i % 2 ? 'order.paid' : 'order.sent', data: { i } });
    const worker = registry.worker({ ssrf: { allow: ['127.0.0.1'] }, autoDisable: false, concurrency: 32 });
    worker.start();
    // Not worker.drain(): it can resolve while claimed deliveries still wait for a per-webhook slot.
    await eventually(
      async () => (await states(scope)).pending === undefined,
      60_000,
      'all deliveries failed',
    );
    await worker.stop();
  };

  beforeAll(async () => {
    pool = serverPool();
    schema = uniqueSchema();
    store = postgresStore({ db: pool, schema });
    await store.migrate();
    registry = new WebhookRegistry({ store, retryPolicy: defineRetryPolicy({ name: 'once', delaysMs: [] }) });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await destroyStore(store);
    await pool.end();
  });

  const states = async (scope: string) => {
    const { rows } = await pool.query(
      `SELECT state, count(*)::int AS n FROM "${schema}".deliveries WHERE scope = $1 GROUP BY state`,
      [scope],
    );
    return Object.fromEntries(rows.map((r: { state: string; n: number }) => [r.state, r.n]));
  };

  it('re-queues exactly the failed deliveries in range; twice in a row queues nothing', {
    timeout: 180_000,
  }, async () => {
    const hook = await registry.create('acme', { url: receiver.url, eventTypes: ['order.*'] });
    receiver.status = 500;
    await failMany('acme', 100);
    // Strictly after the first batch ended.
    const { rows } = await pool.query(`SELECT max(updated_at) AS at FROM "${schema}".deliveries`);
    const since = new Date((rows[0] as { at: Date }).at.getTime() + 1);
    await failMany('acme', 200);
    expect(await states('acme')).toEqual({ failed: 300 });

    const dry = await cli(
      'recover',
      '--scope',
      'acme',
      '--since',
      since.toISOString(),
      '--dry-run',
      '--json',
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({ matched: 200, queued: 0, skipped: 0, dryRun: true });
    expect(await states('acme')).toEqual({ failed: 300 });

    const onlyPaid = await cli(
      'recover',
      '--scope',
      'acme',
      '--since',
      since.toISOString(),
      '--type',
      'order.paid',
      '--webhook',
      String(hook.id),
      '--dry-run',
    );
    expect(onlyPaid.stdout).toBe('100 deliveries match (dry run: nothing queued)\n');

    const run = await cli('recover', '--scope', 'acme', '--since', since.toISOString(), '--batch-size', '50');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('queued 200 of 200 matching deliveries\n');
    // Not a terminal: plain progress lines, the last one complete.
    expect(run.stderr).toMatch(/^recovering: 200\/200 \(100 %\) \(200 queued\)$/m);
    expect(await states('acme')).toEqual({ failed: 100, pending: 200 });

    const twice = await cli('recover', '--scope', 'acme', '--since', since.toISOString(), '--json');
    expect(JSON.parse(twice.stdout)).toEqual({ matched: 0, queued: 0, skipped: 0, dryRun: false });
    // Another scope sees none of them.
    const other = await cli('recover', '--scope', 'other', '--since', '7d', '--json');
    expect(JSON.parse(other.stdout)).toMatchObject({ matched: 0, queued: 0 });
  });

  it('recovers 10 000 failed deliveries in range and no others; a second run queues nothing', async () => {
    const hook = await registry.create('bulk', { url: receiver.url, eventTypes: ['order.*'] });
    const now = Date.now();
    // Stored failed at once (a render failure), through the store's own enqueue: 10 000 in the
    // last 24 hours, 2 000 older, 500 in another scope's range.
    const seed = async (scope: string, webhookId: number, count: number, at: number, tag: string) => {
      for (let start = 0; start < count; start += 500) {
        const deliveries: NewDelivery[] = [];
        for (let i = start; i < Math.min(count, start + 500); i++)
          deliveries.push({
            id: `msg_${tag}_${String(i).padStart(6, '0')}`,
            webhookId,
            type: 'order.paid',
            event: null,
            request: { url: receiver.url, method: 'POST', headers: {}, body: `{"i":${i}}` },
            failure: 'HTTP 503 (receiver down)',
          });
        await store.enqueue({
          scope,
          notificationId: `ntf_${tag}_${start}`,
          deliveries,
          now: new Date(at - start),
        });
      }
    };
    await seed('bulk', hook.id, 10_000, now - 2 * HOUR, 'recent');
    await seed('bulk', hook.id, 2_000, now - 30 * HOUR, 'old');
    const other = await registry.create('bulk-other', { url: receiver.url, eventTypes: ['order.*'] });
    await seed('bulk-other', other.id, 500, now - 2 * HOUR, 'otherscope');

    const run = await cli('recover', '--scope', 'bulk', '--since', '24h', '--batch-size', '1000', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ matched: 10_000, queued: 10_000, skipped: 0, dryRun: false });
    expect(await states('bulk')).toEqual({ failed: 2_000, pending: 10_000 });
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM "${schema}".deliveries WHERE scope = 'bulk' AND state = 'pending' AND id LIKE 'msg_recent_%'`,
    );
    expect((rows[0] as { n: number }).n).toBe(10_000);
    expect(await states('bulk-other')).toEqual({ failed: 500 });

    const twice = await cli('recover', '--scope', 'bulk', '--since', '24h', '--json');
    expect(JSON.parse(twice.stdout)).toEqual({ matched: 0, queued: 0, skipped: 0, dryRun: false });
    expect(await states('bulk')).toEqual({ failed: 2_000, pending: 10_000 });
  });

  it('cancel stops a pending delivery; again is a conflict', async () => {
    await registry.create('cx', { url: receiver.url, eventTypes: ['order.*'] });
    const { deliveryIds } = await registry.emit({ scope: 'cx', type: 'order.paid', data: {} });
    const id = deliveryIds[0] ?? '';
    const first = await cli('cancel', '--scope', 'cx', '--delivery', id);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(`canceled ${id} (state: canceled)\n`);
    expect((await registry.getDelivery('cx', id)).state).toBe('canceled');
    const again = await cli('cancel', '--scope', 'cx', '--delivery', id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^hookline cancel: .*\(conflict\)\n$/);
    const elsewhere = await cli('cancel', '--scope', 'acme', '--delivery', id);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/\(not_found\)\n$/);
  });
});
