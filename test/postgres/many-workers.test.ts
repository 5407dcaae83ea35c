import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { type PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';
import { DATABASE_URL, describeServer, destroyStore, serverPool, sleep, uniqueSchema } from './helpers.js';

const WORKERS = 4;
const WEBHOOKS = 10;
const NOTIFICATIONS = 1_000; // × 10 matching webhooks = 10 000 deliveries
// Long enough that an attempt (timeout LEASE_MS / 4) does not time out on a loaded machine.
const LEASE_MS = 8_000;
const FIXTURE = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));

describeServer('many worker processes on one PostgreSQL', () => {
  let pool: pg.Pool;
  let store: PostgresStore;
  let server: http.Server;
  let port: number;
  /** webhook-id → how many times it arrived. */
  const arrivals = new Map<string, number>();
  /** Called on every arrival (the test waits on arrival counts, never on wall time). */
  let onArrival: () => void = () => undefined;
  const whenArrived = (n: number) =>
    new Promise<void>((resolve) => {
      if (arrivals.size >= n) return resolve();
      onArrival = () => {
        if (arrivals.size >= n) {
          onArrival = () => undefined;
          resolve();
        }
      };
    });
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    pool = serverPool();
    store = postgresStore({ db: pool, schema: uniqueSchema() });
    await store.migrate();
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
        onArrival();
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

    // Kill one worker mid-flight, once deliveries are flowing. Frozen first (SIGSTOP), so the
    // leases read next include every claim it will ever have sent.
    await whenArrived(1_500);
    victim.kill('SIGSTOP');
    const { rows: leasedRows } = await pool.query(
      `SELECT id, lease_until FROM "${store.schema}".deliveries WHERE state = 'pending' AND lease_until IS NOT NULL`,
    );
    const leasedAtKill = new Map(
      (leasedRows as { id: string; lease_until: Date }[]).map((r) => [r.id, r.lease_until.getTime()]),
    );
    victim.kill('SIGKILL');
    await emitting;

    await whenArrived(NOTIFICATIONS * WEBHOOKS);
    // Arrivals come before their attempts are recorded: wait for the last records.
    for (;;) {
      const summary = await store.outboxSummary({ now: new Date() });
      if (summary.pending === 0) break;
      await sleep(50);
    }
    const { rows } = await pool.query(
      `SELECT state, count(*)::int AS n FROM "${store.schema}".deliveries GROUP BY state`,
    );
    expect(rows).toEqual([{ state: 'succeeded', n: NOTIFICATIONS * WEBHOOKS }]);
    expect(arrivals.size).toBe(NOTIFICATIONS * WEBHOOKS);

    const { rows: attemptRows } = await pool.query(
      `SELECT delivery_id, count(*)::int AS n, count(*) FILTER (WHERE ok)::int AS ok, min(started_at) AS first
         FROM "${store.schema}".attempts GROUP BY delivery_id`,
    );
    const recorded = new Map(
      (attemptRows as { delivery_id: string; n: number; ok: number; first: Date }[]).map((r) => [
        r.delivery_id,
        r,
      ]),
    );
    const duplicates = [...arrivals.entries()].filter(([, times]) => times > 1).map(([id]) => id);
    // Sent but never recorded: what the killed worker had in flight.
    const unrecorded = [...arrivals.entries()]
      .filter(([id, times]) => times > (recorded.get(id)?.n ?? 0))
      .map(([id]) => id);
    console.log(
      `[many-workers] ${arrivals.size} delivered; ${duplicates.length} arrived more than once ` +
        `(${unrecorded.length} sends never recorded, by the killed worker; the rest are recorded retries); ` +
        `leases live at the kill: ${leasedAtKill.size}`,
    );
    // No delivery succeeded twice: two workers never both sent it under their own leases.
    for (const { ok } of recorded.values()) expect(ok).toBe(1);
    // Only the killed worker's in-flight attempts (at most its concurrency) go unrecorded...
    expect(unrecorded.length).toBeLessThanOrEqual(32);
    // ...and nothing is sent twice while a lease is held: each of those was leased when the
    // worker was killed, and its recorded attempt started after that lease ran out (both times
    // read from this machine's clock by the workers themselves, not measured by the test).
    for (const id of unrecorded) {
      const leaseUntil = leasedAtKill.get(id);
      expect(leaseUntil, `delivery ${id} arrived twice but was not leased at the kill`).toBeDefined();
      expect(recorded.get(id)!.first.getTime()).toBeGreaterThanOrEqual(leaseUntil!);
    }
  });
});
