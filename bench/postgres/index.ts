/**
 * The PostgreSQL store under load, against pg-boss 10 on the same database in the same run.
 *
 *   HOOKLINE_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/postgres/index.ts [--quick]
 *
 * 1. emit() latency: 10 webhooks match every notification; emit N notifications one at a time
 *    (each stores 10 deliveries in one statement); p50/p99.
 * 2. delivery throughput: N notifications to one webhook, then 4 worker loops at concurrency 32
 *    send them to a keep-alive receiver in another process; deliveries/s until the outbox is empty.
 * 3. pg-boss 10: N no-op jobs, 4 workers with batch fetch 32 (its best configuration for
 *    throughput); jobs/s until all are completed.
 * hookline's timed runs follow one untimed warm-up run of 2 000 deliveries.
 * Each phase uses its own schema and drops it afterwards (URL default: HOOKLINE_TEST_DATABASE_URL,
 * then postgres://postgres@127.0.0.1:5432/test).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { WebhookRegistry } from '../../src/index.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { registerNoopSdk } from '../shared/otel.js';

const quick = process.argv.includes('--quick');
const N = quick ? 2_000 : 10_000;
const WORKERS = 4;
const CONCURRENCY = 32;
const ROUNDS = quick ? 1 : 3;
const URL_ =
  process.env.HOOKLINE_BENCH_DATABASE_URL ??
  process.env.HOOKLINE_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const tag = `hookline_bench_${process.pid}_${randomBytes(3).toString('hex')}`;

const pool = new pg.Pool({ connectionString: URL_, max: 20 });
pool.on('error', () => undefined);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

async function dropSchema(name: string) {
  await pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
}

async function startReceiver(): Promise<{ child: ChildProcess; port: number; count(): Promise<number> }> {
  const child = fork(fileURLToPath(new URL('./receiver.mjs', import.meta.url)), { stdio: 'inherit' });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return {
    child,
    port: message.port,
    async count() {
      child.send('count');
      for (;;) {
        const [m] = (await once(child, 'message')) as [{ count?: number }];
        if (m.count !== undefined) return m.count;
      }
    },
  };
}

async function emitLatency(port: number) {
  const schema = `${tag}_emit`;
  const store = postgresStore({ db: pool, schema, notify: false });
  await store.migrate();
  try {
    const registry = new WebhookRegistry({ store });
    for (let i = 0; i < 10; i++) {
      await registry.create('bench', { url: `http://127.0.0.1:${port}/h${i}`, eventTypes: ['bench.*'] });
    }
    for (let i = 0; i < 200; i++) await registry.emit({ scope: 'bench', type: 'bench.warmup', data: { i } });
    const times: number[] = [];
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      await registry.emit({
        scope: 'bench',
        type: 'bench.event',
        data: { i, order: { code: 'ABC12', total: '12.00' } },
      });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return { p50: pct(times, 50), p99: pct(times, 99) };
  } finally {
    await dropSchema(schema);
  }
}

/**
 * Emits N notifications, then runs the worker loops until all are delivered. `workerPool`, when
 * given, is the workers' own pool (the registry that emits keeps the main pool).
 */
async function hooklineThroughput(port: number, label: string, workerPool?: pg.Pool, count = N) {
  const schema = `${tag}_deliver_${label}`;
  const store = postgresStore({ db: pool, schema });
  await store.migrate();
  try {
    const registry = new WebhookRegistry({ store });
    await registry.create('bench', { url: `http://127.0.0.1:${port}/hook`, eventTypes: ['bench.*'] });
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, (_, j) =>
          registry.emit({ scope: 'bench', type: 'bench.event', data: { i: i + j } }),
        ),
      );
    }
    // As autovacuum would on a live table: the planner needs statistics for the claim query.
    await pool.query(`ANALYZE "${schema}".deliveries`);
    const workerRegistry = workerPool
      ? new WebhookRegistry({ store: postgresStore({ db: workerPool, schema }) })
      : registry;
    const workers = Array.from({ length: WORKERS }, () =>
      workerRegistry.worker({
        concurrency: CONCURRENCY,
        perWebhookConcurrency: WORKERS * CONCURRENCY,
        ssrf: { allowPrivateNetworks: true },
        autoDisable: false,
      }),
    );
    let succeeded = 0;
    for (const w of workers) {
      w.on('delivery.succeeded', () => {
        succeeded++;
      });
      w.on('error', ({ error }) => console.error('worker error:', error.message));
    }
    const start = performance.now();
    for (const w of workers) w.start();
    while (succeeded < count) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - start) / 1000;
    await Promise.all(workers.map((w) => w.stop()));
    return { perSecond: count / seconds, seconds };
  } finally {
    await dropSchema(schema);
  }
}

/**
 * pg-boss processing N no-op jobs. `work`: its `work()` API (polls every 0.5 s, its minimum).
 * `fetch`: loops that `fetch()` a batch and `complete()` it at once, with no wait while jobs are
 * there: what a user tuning pg-boss for throughput would write.
 */
async function pgBossThroughput(mode: 'work' | 'fetch', loops: number, round: number) {
  const schema = `${tag}_pgboss_${mode}_${loops}_${round}`;
  const boss = new PgBoss({ connectionString: URL_, schema, max: 20, supervise: false, schedule: false });
  boss.on('error', (e) => console.error('pg-boss error:', e.message));
  await boss.start();
  try {
    await boss.createQueue('bench');
    for (let i = 0; i < N; i += 1_000) {
      await boss.insert(
        Array.from({ length: Math.min(1_000, N - i) }, (_, j) => ({ name: 'bench', data: { i: i + j } })),
      );
    }
    let done = 0;
    const start = performance.now();
    if (mode === 'work') {
      for (let w = 0; w < loops; w++) {
        await boss.work('bench', { batchSize: CONCURRENCY, pollingIntervalSeconds: 0.5 }, async (jobs) => {
          done += jobs.length;
        });
      }
      while (done < N) await new Promise((r) => setTimeout(r, 5));
    } else {
      await Promise.all(
        Array.from({ length: loops }, async () => {
          while (done < N) {
            const jobs = await boss.fetch('bench', { batchSize: CONCURRENCY });
            if (jobs.length === 0) {
              await new Promise((r) => setTimeout(r, 5));
              continue;
            }
            await boss.complete(
              'bench',
              jobs.map((j) => j.id),
            );
            done += jobs.length;
          }
        }),
      );
    }
    const seconds = (performance.now() - start) / 1000;
    return { perSecond: N / seconds, seconds };
  } finally {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await dropSchema(schema);
  }
}

const receiver = await startReceiver();
try {
  const latency = await emitLatency(receiver.port);
  // One untimed run first, so the timed ones meet warmed-up code (pg-boss's timed 4-loop run
  // likewise follows its other configurations).
  await hooklineThroughput(receiver.port, 'warmup', undefined, Math.min(N, 2_000));
  const asyncPool = new pg.Pool({ connectionString: URL_, max: 20, options: '-c synchronous_commit=off' });
  asyncPool.on('error', () => undefined);
  // The machine is shared and runs vary by ±15 %: every timed configuration runs ROUNDS times,
  // interleaved with the others, and each is represented by its best run.
  type Run = { perSecond: number; seconds: number };
  const runs = new Map<string, Run[]>();
  const add = (key: string, run: Run) => {
    runs.set(key, [...(runs.get(key) ?? []), run]);
  };
  for (let round = 0; round < ROUNDS; round++) {
    add('hookline', await hooklineThroughput(receiver.port, `default${round}`));
    // Workers on their own pool with synchronous_commit off (see docs/postgres.md): a database
    // crash can then only cause duplicate sends, never lost notifications, since emit() commits
    // synchronously on the main pool.
    add('hooklineAsync', await hooklineThroughput(receiver.port, `async${round}`, asyncPool));
    add('boss1', await pgBossThroughput('fetch', 1, round));
    add('boss4', await pgBossThroughput('fetch', WORKERS, round));
  }
  await asyncPool.end();
  // With an OpenTelemetry SDK registered (exporters that drop everything), after the runs
  // without one: a process has an SDK or not, and call sites that saw both measure neither.
  const unregister = registerNoopSdk();
  await hooklineThroughput(receiver.port, 'otelwarmup', undefined, Math.min(N, 2_000));
  for (let round = 0; round < ROUNDS; round++)
    add('hooklineOtel', await hooklineThroughput(receiver.port, `otel${round}`));
  await unregister();
  const best = (key: string): Run =>
    (runs.get(key) ?? []).reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const spread = (key: string) =>
    key in { hookline: 1, hooklineAsync: 1, hooklineOtel: 1, boss1: 1, boss4: 1 }
      ? `  runs: ${(runs.get(key) ?? []).map((r) => fmt(r.perSecond)).join(' / ')}`
      : '';
  const hookline = best('hookline');
  const hooklineAsync = best('hooklineAsync');
  const hooklineOtel = best('hooklineOtel');
  const bossRuns = [
    // work() polls at most every 0.5 s, so one run tells all there is to know.
    {
      label: `${WORKERS} × work(), batchSize ${CONCURRENCY}`,
      key: 'work',
      ...(await pgBossThroughput('work', WORKERS, 0)),
    },
    { label: `1 fetch/complete loop, batch ${CONCURRENCY}`, key: 'boss1', ...best('boss1') },
    { label: `${WORKERS} fetch/complete loops, batch ${CONCURRENCY}`, key: 'boss4', ...best('boss4') },
  ];
  const boss = bossRuns.reduce((best, run) => (run.perSecond > best.perSecond ? run : best));
  const received = await receiver.count();
  console.log(
    `PostgreSQL store vs pg-boss 10, ${fmt(N)} items, node ${process.version}${quick ? ' (--quick)' : ''}`,
  );
  console.log(
    `database ${URL_.replace(/\/\/[^@]*@/, '//…@')}, receiver pid ${receiver.child.pid} (${fmt(received)} requests)`,
  );
  console.log(`throughput: best of ${ROUNDS} interleaved runs per configuration`);
  console.log('');
  console.log(
    `emit() with 10 matching webhooks (10 deliveries per call):  p50 ${latency.p50.toFixed(2)} ms   p99 ${latency.p99.toFixed(2)} ms`,
  );
  console.log(
    `hookline: ${WORKERS} workers × concurrency ${CONCURRENCY}, HTTP to a local receiver:  ${fmt(hookline.perSecond)} deliveries/s (${hookline.seconds.toFixed(2)} s)${spread('hookline')}`,
  );
  console.log(
    `hookline: same, workers on a pool with synchronous_commit=off:       ${fmt(hooklineAsync.perSecond)} deliveries/s (${hooklineAsync.seconds.toFixed(2)} s)${spread('hooklineAsync')}`,
  );
  console.log(
    `hookline: same, with an OpenTelemetry SDK (no-op exporters):      ${fmt(hooklineOtel.perSecond)} deliveries/s (${hooklineOtel.seconds.toFixed(2)} s)${spread('hooklineOtel')}  (${((hooklineOtel.perSecond / hookline.perSecond) * 100).toFixed(0)} % of without)`,
  );
  for (const run of bossRuns) {
    console.log(
      `pg-boss:  ${run.label.padEnd(34)} no-op jobs:  ${fmt(run.perSecond)} jobs/s (${run.seconds.toFixed(2)} s)${spread(run.key)}`,
    );
  }
  for (const [name, run] of [
    ['hookline', hookline],
    ['hookline (workers: synchronous_commit=off)', hooklineAsync],
  ] as const) {
    const ratio = run.perSecond / boss.perSecond;
    console.log(
      `ratio ${name} / best pg-boss (${boss.label}): ${ratio.toFixed(2)}×  (target >= 1)  ${ratio >= 1 ? 'PASS' : 'FAIL'}`,
    );
  }
} finally {
  receiver.child.disconnect();
  receiver.child.kill();
  await pool.end();
}
