import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { type PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';
import { DATABASE_URL, describeServer, destroyStore, serverPool, uniqueSchema } from '../postgres/helpers.js';
import {
  type CliProcess,
  eventually,
  get,
  type Receiver,
  runCli,
  startCli,
  startReceiver,
} from './helpers.js';

// Each test starts the program as a child process (tsx compiles it each time): slow on a busy machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

describeServer('hookline worker', () => {
  let pool: pg.Pool;
  let store: PostgresStore;
  let registry: WebhookRegistry;
  let receiver: Receiver;
  let schema: string;
  const dir = mkdtempSync(join(tmpdir(), 'hookline-cli-worker-'));
  const running = new Set<CliProcess>();

  const worker = (...args: string[]) => {
    const cli = startCli(['worker', '--schema', schema, '--ssrf-allow', '127.0.0.1', ...args], {
      env: { DATABASE_URL },
    });
    running.add(cli);
    void cli.done.then(() => running.delete(cli));
    return cli;
  };

  const emitMany = async (scope: string, type: string, count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { deliveryIds } = await registry.emit({ scope, type, data: { i } });
      ids.push(...deliveryIds);
    }
    return ids;
  };

  beforeAll(async () => {
    pool = serverPool();
    schema = uniqueSchema();
    store = postgresStore({ db: pool, schema });
    await store.migrate();
    registry = new WebhookRegistry({ store });
    receiver = await startReceiver();
  });

  afterAll(async () => {
    for (const cli of running) cli.child.kill('SIGKILL');
    await receiver.close();
    await destroyStore(store);
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers to a local receiver and serves /healthz, /readyz and /metrics', async () => {
    await registry.create('acme', { url: receiver.url, eventTypes: ['order.*'] });
    const ids = await emitMany('acme', 'order.paid', 5);
    const cli = worker('--health-port', '0', '--concurrency', '4');
    const listening = await cli.waitForStderr(/health server listening/);
    const { port } = JSON.parse(listening) as { port: number };
    await receiver.until(() => ids.every((id) => receiver.arrivals.has(id)));

    const health = await get(`http://127.0.0.1:${port}/healthz`);
    expect(health).toMatchObject({ status: 200 });
    const ready = await get(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready' });

    // The outcome is recorded just after the answer: poll /metrics until the counter shows all 5.
    let metrics = '';
    await eventually(async () => {
      metrics = (await get(`http://127.0.0.1:${port}/metrics`)).body;
      return metrics.includes('hookline_delivery_duration_count{hookline_delivery_state="succeeded"} 5');
    });
    const response = await get(`http://127.0.0.1:${port}/metrics`);
    expect(response.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(metrics).toContain('# TYPE hookline_attempts_total counter');
    expect(metrics).toContain(
      'hookline_attempts_total{hookline_outcome="success",http_response_status_class="2xx"} 5',
    );
    expect(metrics).toContain('# TYPE hookline_attempt_duration histogram');
    expect(metrics).toMatch(
      /hookline_attempt_duration_bucket\{hookline_outcome="success",http_response_status_class="2xx",le="\+Inf"\} 5/,
    );
    expect(metrics).toContain('hookline_delivery_duration_count{hookline_delivery_state="succeeded"} 5');
    expect(metrics).toMatch(/^hookline_delivery_lag_count 5$/m);
    expect(metrics).toMatch(/^hookline_outbox_pending 0$/m);
    expect(metrics).toMatch(/^hookline_outbox_due 0$/m);
    expect(metrics).toMatch(/^hookline_outbox_in_flight 0$/m);
    expect(metrics).toMatch(/^hookline_outbox_oldest_due_age 0$/m);
    expect(metrics).toMatch(/^hookline_notifications_emitted_total 0$/m);
    expect((await get(`http://127.0.0.1:${port}/nope`)).status).toBe(404);

    // stats --json is registry.stats().
    const stats = await runCli(['stats', '--schema', schema, '--json', '--per-scope'], {
      env: { DATABASE_URL },
    });
    expect(stats.code, stats.stderr).toBe(0);
    const expected = JSON.parse(JSON.stringify(await registry.stats({ perScope: true })));
    const { now: _a, ...got } = JSON.parse(stats.stdout);
    const { now: _b, ...want } = expected;
    expect(got).toEqual(want);

    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expect(result.code).toBe(0);
    const lines = result.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'hookline: worker started',
        'hookline: worker process ready',
        'hookline: worker stopped',
        'hookline: worker process exiting',
      ]),
    );
    // Not ready once stopped: the port is closed.
    await expect(get(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('SIGTERM with deliveries in flight: exits 0, gives them back, and a second worker delivers everything', async () => {
    await registry.create('slow', { url: receiver.url, eventTypes: ['slow.*'] });
    receiver.hold = true;
    const ids = await emitMany('slow', 'slow.thing', 8);
    const cli = worker('--concurrency', '4', '--per-webhook-concurrency', '4', '--stop-timeout-ms', '200');
    await receiver.until(() => receiver.held() >= 4);
    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('hookline: stopping');
    // Answer the held requests only now: the stopped worker never recorded them.
    receiver.hold = false;
    receiver.release();
    const { items } = await registry.deliveries('slow', (await registry.list('slow')).items[0]?.id ?? 0, {
      pageSize: 100,
    });
    expect(items.filter((d) => d.state === 'pending')).toHaveLength(8);

    // Given back, so due at once: a second worker (lease 120 s by default) delivers them all now.
    const before = new Map(receiver.arrivals);
    const second = worker();
    await receiver.until(() => ids.every((id) => (receiver.arrivals.get(id) ?? 0) > (before.get(id) ?? 0)));
    const webhookId = items[0]?.webhookId ?? 0;
    await eventually(async () => {
      const { items: now } = await registry.deliveries('slow', webhookId, { pageSize: 100 });
      return now.every((d) => d.state === 'succeeded');
    });
    second.child.kill('SIGTERM');
    expect((await second.done).code).toBe(0);
    // At least once: every delivery arrived, those held during the stop twice, none more.
    for (const id of ids) expect(receiver.arrivals.get(id)).toBe((before.get(id) ?? 0) + 1);
  });

  it('--config (.mjs): a retry policy and a logger of the host', async () => {
    const config = join(dir, 'hookline.config.mjs');
    writeFileSync(
      config,
      `const line = (level) => (fields, msg) => process.stderr.write('CONFIG ' + level + ' ' + msg + '\\n');
export default async () => ({
  retryPolicy: { name: 'once', delaysMs: [] },
  logger: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') },
  worker: { autoDisable: false },
});
`,
    );
    const hook = await registry.create('cfg', { url: receiver.url, eventTypes: ['cfg.*'] });
    receiver.status = 500;
    const [id] = await emitMany('cfg', 'cfg.thing', 1);
    const cli = worker('--config', config, '--log-format', 'pretty');
    await cli.waitForStderr(/^CONFIG info hookline: worker process ready$/);
    await receiver.until(() => receiver.arrivals.has(id ?? ''));
    // One attempt and no retry: the policy of the config.
    await eventually(async () => (await registry.getDelivery('cfg', id ?? '')).state === 'failed');
    receiver.status = 200;
    const delivery = await registry.getDelivery('cfg', id ?? '');
    expect(delivery).toMatchObject({ state: 'failed', attemptCount: 1, lastStatus: 500 });
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('CONFIG info hookline: worker started');
    expect(result.stderr).toContain('CONFIG info hookline: worker stopped');

    // The log from a terminal: the receiver's ANSI escapes are stripped.
    const attempts = await runCli(
      ['attempts', '--schema', schema, '--scope', 'cfg', '--delivery', id ?? ''],
      {
        env: { DATABASE_URL },
      },
    );
    expect(attempts.code, attempts.stderr).toBe(0);
    expect(attempts.stdout).toMatch(/^#\s+started\s+status\s+ok\s+ms\s+error\s+response$/m);
    expect(attempts.stdout).toMatch(/\s1\s+\S+Z\s+500\s+no\s+\d+\s.*nope red/);
    expect(attempts.stdout).not.toContain('\u001b');
    const deliveries = await runCli(
      ['deliveries', '--schema', schema, '--scope', 'cfg', '--webhook', String(hook.id), '--json'],
      { env: { DATABASE_URL } },
    );
    expect(deliveries.code, deliveries.stderr).toBe(0);
    expect(JSON.parse(deliveries.stdout)).toMatchObject([
      { id, state: 'failed', lastStatus: 500, url: receiver.url },
    ]);
    // Another scope's delivery is not found.
    const other = await runCli(['attempts', '--schema', schema, '--scope', 'acme', '--delivery', id ?? ''], {
      env: { DATABASE_URL },
    });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^hookline attempts: .*\(not_found\)\n$/);
  });
});
