import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { type PostgresStore, postgresStore } from '../../src/postgres/index.js';
import { DATABASE_URL, describeServer, destroyStore, serverPool, sleep, uniqueSchema } from './helpers.js';

const WORKERS = 4;
const WEBHOOKS = 10;
const NOTIFICATIONS = 1_000; // × 10 matching webhooks = 10 000 deliveries
const LEASE_MS = 3_000;
const FIXTURE = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));

describeServer('many worker processes on one PostgreSQL', () => {
  let pool: pg.Pool;
  let store: PostgresStore;
  let server: http.Server;
  let port: number;
  /** webhook-id → arrival times (ms). */
  const arrivals = new Map<string, number[]>();
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    pool = serverPool();
    store = postgresStore({ db: pool, schema: uniqueSchema() });
    await store.migrate();
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        const list = arrivals.get(id) ?? [];
        list.push(Date.now());
        arrivals.set(id, list);
        // A little latency keeps deliveries in flight when a worker is killed.
        setTimeout(() => {
          res.writeHead(200);
          res.end('ok');
        }, 2);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await destroyStore(store);
    await pool.end();
  });

  const startWorker = async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, DATABASE_URL!, store.schema, String(LEASE_MS), '32'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        if (buffer.includes('ready')) resolve();
      });
    });
    return child;
  };

  it('delivers 10 000 deliveries, each once while leased; a killed worker’s claims go to the others after lease expiry', {
    timeout: 180_000,
  }, async () => {
    const registry = new WebhookRegistry({ store });
    for (let i = 0; i < WEBHOOKS; i++) {
      await registry.create('load', { url: `http://127.0.0.1:${port}/hook/${i}`, eventTypes: ['load.*'] });
    }
    await Promise.all(Array.from({ length: WORKERS }, () => startWorker()));
    const victim = children[0]!;

    const emitting = (async () => {
      for (let i = 0; i < NOTIFICATIONS; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            registry.emit({ scope: 'load', type: 'load.test', data: { n: i + j } }),
          ),
        );
      }
    })();

    // Kill one worker mid-flight, once deliveries are flowing.
    while (arrivals.size < 1_500) await sleep(5);
    const { rows: heldRows } = await pool.query(
      `SELECT count(*)::int AS n FROM "${store.schema}".deliveries WHERE state = 'pending' AND lease_until > now()`,
    );
    victim.kill('SIGKILL');
    await emitting;

    const deadline = Date.now() + 120_000;
    for (;;) {
      const summary = await store.outboxSummary({ now: new Date() });
      if (summary.pending === 0) break;
      if (Date.now() > deadline) throw new Error(`not drained: ${JSON.stringify(summary)}`);
      await sleep(100);
    }
    const { rows } = await pool.query(
      `SELECT state, count(*)::int AS n FROM "${store.schema}".deliveries GROUP BY state`,
    );
    expect(rows).toEqual([{ state: 'succeeded', n: NOTIFICATIONS * WEBHOOKS }]);
    expect(arrivals.size).toBe(NOTIFICATIONS * WEBHOOKS);

    const { rows: attemptRows } = await pool.query(
      `SELECT delivery_id, count(*)::int AS n FROM "${store.schema}".attempts GROUP BY delivery_id`,
    );
    const recorded = new Map(
      (attemptRows as { delivery_id: string; n: number }[]).map((r) => [r.delivery_id, r.n]),
    );
    const duplicates = [...arrivals.entries()].filter(([, times]) => times.length > 1);
    // Sent but never recorded: what the killed worker had in flight.
    let unrecorded = 0;
    for (const [id, times] of arrivals) unrecorded += Math.max(0, times.length - (recorded.get(id) ?? 0));
    const gaps = duplicates.map(([, times]) => times[1]! - times[0]!);
    console.log(
      `[many-workers] ${arrivals.size} delivered; ${duplicates.length} arrived more than once ` +
        `(${unrecorded} sends never recorded, by the killed worker; the rest are recorded retries); ` +
        `leases live at the kill: ${heldRows[0].n}; shortest gap between two arrivals ${Math.min(...gaps, Infinity)} ms ` +
        `(lease ${LEASE_MS} ms)`,
    );
    // Only the killed worker's in-flight attempts (at most its concurrency) go unrecorded...
    expect(unrecorded).toBeLessThanOrEqual(32);
    // ...and nothing arrives twice while a lease is held: a second arrival comes after the
    // first sender's lease ran out (or as a scheduled retry, which is later still).
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(LEASE_MS - 1_000);
  });
});
