/**
 * hookline's PostgreSQL delivery against graphile-worker and BullMQ doing the same job, side by
 * side in one run, worker processes separate as in production; pg-boss 10 for context.
 *
 *   HOOKLINE_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/postgres/index.ts [--quick]
 *
 * The job (job.ts): N Standard Webhooks-signed POSTs (HMAC-SHA256) of ~750-byte JSON bodies to a
 * keep-alive receiver in another process (receiver.mjs; it counts distinct `webhook-id`s and
 * checks a sample of signatures). hookline's worker renders and signs; graphile-worker's task and
 * BullMQ's processor sign the same body shape with node:crypto and POST it with an undici `Pool`
 * per process. Each system runs in 4 forked worker processes at concurrency 32 (peers/*.ts):
 * hookline `registry.worker({ concurrency: 32 })` on `postgresStore`, graphile-worker
 * `run({ concurrency: 32 })` (its other settings default; its batching settings, `localQueue`
 * 64 and `completeJobBatchDelay` 0, in one more drain configuration for context), BullMQ
 * `new Worker({ concurrency: 32 })`. Each PostgreSQL worker process has a pool of 16
 * connections, for hookline and graphile-worker alike (the server allows 100; graphile-worker
 * recommends concurrency + 2 and warns below that, a warning the bench silences).
 *
 * 1. emit() latency (in this process): 10 webhooks match every notification; 10 000 emits one at
 *    a time (each stores 10 deliveries in one statement); p50/p99.
 * 2. drain: N jobs enqueued first (hookline: emit() to one webhook, 100 at a time; graphile-worker:
 *    addJobs() by 1 000; BullMQ: addBulk() by 1 000), then the worker processes are forked and
 *    made ready, and started together; timed from the start until the receiver has all N:
 *    deliveries/s. hookline also with its workers' pool at synchronous_commit=off, and (after all
 *    else) with an OpenTelemetry SDK with no-op exporters registered in the worker processes.
 * 3. enqueue included: the worker processes are started on an empty queue, then 16 concurrent
 *    producers in this process add the N jobs, each in a transaction of its own (hookline:
 *    `withTransaction(pool, tx => registry.emit(…, { tx }))`; graphile-worker: BEGIN,
 *    `add_job()`, COMMIT; BullMQ: `queue.add()`); timed from the first enqueue until the receiver
 *    has all N: deliveries/s, and enqueues/s alone (until the last enqueue returned).
 * 4. CPU per delivery, median of the timed drain runs: PostgreSQL's (cpu.ts: utime + stime of the
 *    server processes from /proc, other applications' backends left out) or, for BullMQ, Redis's
 *    (`INFO cpu`); and the worker processes' own (process.cpuUsage()).
 * 5. pg-boss 10, in this process: N no-op jobs (no HTTP), 1 or 4 fetch/complete loops of batch 32
 *    (its best configuration for throughput), and 4 × work() (poll-bound: 2 000 jobs).
 * Every system has one untimed warm-up drain of 2 000 first; each timed configuration then runs
 * 3 times, interleaved with the others, and is represented by its best run. Worker processes are
 * forked afresh for every run (so each starts cold, alike for all). Each run has its own schema
 * (dropped after) or Redis queue (obliterated after) under one key prefix (deleted at the end).
 * URL default: HOOKLINE_TEST_DATABASE_URL, then postgres://postgres@127.0.0.1:5432/test; Redis:
 * HOOKLINE_BENCH_REDIS (host:port), default 127.0.0.1:6379. `--quick`: N = 2 000, one run each.
 * `--only=enqueue`: only "enqueue included" for hookline and graphile-worker (`--rounds=R`, default
 * 3, or 1 with --quick), their figures and ratio: for working on that ratio without the rest.
 * `--record-delays=0,2,5`: only hookline's "enqueue included", once per round for each store
 * `recordDelayMs` given, interleaved (`--rounds=R`), with the medians per delay: for choosing
 * that default (docs/postgres.md, "Record delay").
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import pg from 'pg';
import { WebhookRegistry } from '../../src/index.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { postgresCpuMsSince, postgresSnapshot, redisCpuMs } from './cpu.js';
import { startFleet } from './fleet.js';
import type { WorkerConfig } from './peers/protocol.js';
import { pgBossThroughput } from './pgboss.js';
import { type ReceivedRun, startReceiver } from './receiver-process.js';
import { bullmqSystem } from './systems/bullmq.js';
import { graphileSystem } from './systems/graphile.js';
import { hooklineSystem } from './systems/hookline.js';
import type { BenchContext, BenchSystem } from './systems/types.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
if (only !== undefined && only !== 'enqueue') throw new Error(`--only=${only}: only --only=enqueue is known`);
const roundsArg = process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length);
const recordDelays = process.argv
  .find((a) => a.startsWith('--record-delays='))
  ?.slice('--record-delays='.length)
  .split(',')
  .map(Number);
if (recordDelays?.some((ms) => !Number.isFinite(ms) || ms < 0))
  throw new Error('--record-delays: a comma-separated list of milliseconds, e.g. 0,2,5');
const N = quick ? 2_000 : 20_000;
const EMITS = quick ? 2_000 : 10_000;
const WARMUP = 2_000;
const WORKERS = 4;
const CONCURRENCY = 32;
const POOL_PER_PROCESS = 16;
const PRODUCERS = 16;
const ROUNDS = roundsArg === undefined ? (quick ? 1 : 3) : Number(roundsArg);
const URL_ =
  process.env.HOOKLINE_BENCH_DATABASE_URL ??
  process.env.HOOKLINE_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const [redisHost, redisPort] = (process.env.HOOKLINE_BENCH_REDIS ?? '127.0.0.1:6379').split(':');
const tag = `hookline_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
const version = (name: string) =>
  (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;

const pool = new pg.Pool({ connectionString: URL_, max: 20, idleTimeoutMillis: 0, application_name: tag });
pool.on('error', () => undefined);
pool.on('connect', (client) => client.on('error', () => undefined));
const redis = new Redis({ host: redisHost, port: Number(redisPort ?? 6379), lazyConnect: true });

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const median = (values: number[]) =>
  pct(
    [...values].sort((a, b) => a - b),
    50,
  );
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

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
    for (let i = 0; i < EMITS; i++) {
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
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

const receiver = await startReceiver();
const context: BenchContext = {
  url: URL_,
  pool,
  tag,
  port: receiver.port,
  redis: { host: redisHost ?? '127.0.0.1', port: Number(redisPort ?? 6379) },
};

/** One timed run's figures. */
interface Run {
  perSecond: number;
  seconds: number;
  /** Server CPU (PostgreSQL's or Redis's) per delivery, ms. */
  serverMs: number;
  /** PostgreSQL systems: committed transactions (statements outside a BEGIN count one each) per delivery, database-wide. */
  commitsPerDelivery?: number;
  /** Enqueue-included runs: this process's CPU (the producers, and the bench's own work) per delivery, ms. */
  producerMs?: number;
  /** The worker processes' CPU per delivery, ms. */
  workerMs: number;
  /** Enqueue-included runs: enqueues per second until the last one returned. */
  enqueuePerSecond?: number;
  received: ReceivedRun;
}

let runCounter = 0;

/** The database's committed transactions so far (pg_stat_database, flushed by each backend within about a second). */
async function commits(): Promise<number> {
  await pool.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  const { rows } = await pool.query<{ n: string }>(
    'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(rows[0]?.n ?? 0);
}

/** Server CPU meter for one run: `read()` gives the ms used since `start()`. */
async function serverMeter(system: BenchSystem): Promise<{ read(): Promise<number> }> {
  if (system.server === 'redis') {
    const before = await redisCpuMs(redis);
    return { read: async () => (await redisCpuMs(redis)) - before };
  }
  const before = postgresSnapshot();
  return { read: () => postgresCpuMsSince(before, pool, tag) };
}

/**
 * One run of `system`: `drain` enqueues `count` jobs first and then starts the worker processes;
 * `enqueue` starts them first and then has PRODUCERS add the jobs one transaction each.
 */
async function measure(
  system: BenchSystem,
  mode: 'drain' | 'enqueue',
  count: number,
  extra: Partial<WorkerConfig> = {},
): Promise<Run> {
  const label = `${mode}${runCounter++}`;
  const run = await system.prepare(context, label);
  try {
    if (mode === 'drain') await run.backlog(count);
    const fleet = await startFleet(
      system.script,
      {
        url: URL_,
        port: receiver.port,
        concurrency: CONCURRENCY,
        poolMax: POOL_PER_PROCESS,
        appName: `${tag}_${system.script}`,
        ...run.config,
        ...extra,
      },
      WORKERS,
    );
    try {
      const { reached } = await receiver.arm(count, Math.max(120_000, count * 30));
      if (mode === 'enqueue') await fleet.go();
      const meter = await serverMeter(system);
      const commitsBefore = system.server === 'postgres' ? await commits() : 0;
      const start = performance.now();
      const producerCpu = process.cpuUsage();
      let enqueueSeconds: number | undefined;
      let producerMs: number | undefined;
      if (mode === 'drain') await fleet.go();
      else {
        let next = 0;
        await Promise.all(
          Array.from({ length: PRODUCERS }, async () => {
            while (next < count) await run.addOne(next++);
          }),
        );
        enqueueSeconds = (performance.now() - start) / 1000;
        const used = process.cpuUsage(producerCpu);
        producerMs = (used.user + used.system) / 1000 / count;
      }
      const received = await reached;
      const seconds = (performance.now() - start) / 1000;
      const serverMs = await meter.read();
      const commitsAfter = system.server === 'postgres' ? await commits() : 0;
      const workers = await fleet.stop();
      if (received.checked === 0 || received.bad > 0) {
        throw new Error(`${system.name}: ${received.bad} of ${received.checked} checked signatures invalid`);
      }
      if (workers.processed < count) {
        throw new Error(`${system.name}: workers report ${workers.processed} of ${count} jobs done`);
      }
      return {
        perSecond: count / seconds,
        seconds,
        serverMs: serverMs / count,
        workerMs: workers.cpuMs / count,
        ...(system.server === 'postgres'
          ? { commitsPerDelivery: (commitsAfter - commitsBefore) / count }
          : {}),
        ...(enqueueSeconds === undefined ? {} : { enqueuePerSecond: count / enqueueSeconds }),
        ...(producerMs === undefined ? {} : { producerMs }),
        received,
      };
    } catch (error) {
      fleet.kill();
      throw error;
    }
  } finally {
    await run.cleanup();
  }
}

const runs = new Map<string, Run[]>();
const add = (key: string, run: Run) => {
  runs.set(key, [...(runs.get(key) ?? []), run]);
};
const best = (key: string): Run =>
  (runs.get(key) ?? []).reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
const spread = (key: string) => (runs.get(key) ?? []).map((r) => fmt(r.perSecond)).join(' / ');
const cpu = (key: string) => median((runs.get(key) ?? []).map((r) => r.serverMs));
const workerCpu = (key: string) => median((runs.get(key) ?? []).map((r) => r.workerMs));

/** An enqueue-included run's CPU per delivery (PostgreSQL, workers, producers) and commits per delivery. */
const costs = (run: Run) =>
  `CPU per delivery: PostgreSQL ${run.serverMs.toFixed(3)} ms, workers ${run.workerMs.toFixed(3)} ms, ` +
  `producers ${(run.producerMs ?? 0).toFixed(3)} ms; ${(run.commitsPerDelivery ?? 0).toFixed(2)} commits per delivery`;

const systems = [hooklineSystem, graphileSystem, bullmqSystem];
let bytesPerBody = 0;
try {
  if (recordDelays !== undefined) {
    await measure(hooklineSystem, 'drain', Math.min(N, WARMUP));
    for (let round = 0; round < ROUNDS; round++) {
      for (const recordDelayMs of recordDelays) {
        const run = await measure(hooklineSystem, 'enqueue', N, { recordDelayMs });
        add(`record delay ${recordDelayMs}`, run);
        console.log(`recordDelayMs ${recordDelayMs}: ${fmt(run.perSecond)} deliveries/s, ${costs(run)}`);
      }
    }
    for (const recordDelayMs of recordDelays) {
      const key = `record delay ${recordDelayMs}`;
      const perSecond = median((runs.get(key) ?? []).map((r) => r.perSecond));
      console.log(
        `recordDelayMs ${recordDelayMs}, medians: ${fmt(perSecond)} deliveries/s, PostgreSQL ${cpu(key).toFixed(3)} ms, workers ${workerCpu(key).toFixed(3)} ms per delivery`,
      );
    }
  } else if (only === 'enqueue') {
    const pair = [hooklineSystem, graphileSystem];
    for (const system of pair) await measure(system, 'drain', Math.min(N, WARMUP));
    for (let round = 0; round < ROUNDS; round++) {
      for (const system of pair) {
        const run = await measure(system, 'enqueue', N);
        add(`${system.name} enqueue`, run);
        console.log(
          `${system.name} enqueue included: ${fmt(run.perSecond)} deliveries/s, enqueues alone ${fmt(run.enqueuePerSecond ?? 0)}/s, ` +
            costs(run),
        );
      }
    }
    const ratio = best('hookline enqueue').perSecond / best('graphile-worker enqueue').perSecond;
    console.log(`ratio enqueue included hookline / graphile-worker: ${ratio.toFixed(2)}×  (target >= 1.5)`);
  } else {
    await redis.connect();
    const latency = await emitLatency(receiver.port);
    // One untimed drain per system first, so the timed ones meet a warmed-up server.
    for (const system of systems) await measure(system, 'drain', Math.min(N, WARMUP));
    const bossRuns = new Map<string, { perSecond: number; seconds: number }[]>();
    const addBoss = (key: string, run: { perSecond: number; seconds: number }) => {
      bossRuns.set(key, [...(bossRuns.get(key) ?? []), run]);
    };
    const boss = (mode: 'work' | 'fetch', loops: number, count: number) =>
      pgBossThroughput({
        url: URL_,
        pool,
        schema: `${tag}_pgboss_${mode}_${loops}_${runCounter++}`,
        mode,
        loops,
        batchSize: CONCURRENCY,
        count,
      });
    // The machine is shared and runs vary by ±15 %: every timed configuration runs ROUNDS times,
    // interleaved with the others, and each is represented by its best run.
    for (let round = 0; round < ROUNDS; round++) {
      for (const system of systems) add(`${system.name} drain`, await measure(system, 'drain', N));
      // Workers on their own pool with synchronous_commit off (see docs/postgres.md): a database
      // crash can then only cause duplicate sends, never lost notifications, since emit() commits
      // synchronously on the main pool.
      add('hookline async drain', await measure(hooklineSystem, 'drain', N, { asyncCommit: true }));
      add('graphile batching drain', await measure(graphileSystem, 'drain', N, { graphileBatching: true }));
      for (const system of systems) add(`${system.name} enqueue`, await measure(system, 'enqueue', N));
      addBoss('boss1', await boss('fetch', 1, N));
      addBoss('boss4', await boss('fetch', WORKERS, N));
    }
    // With an OpenTelemetry SDK registered (exporters that drop everything) in the worker
    // processes, after the runs without one.
    await measure(hooklineSystem, 'drain', Math.min(N, WARMUP), { otel: true });
    for (let round = 0; round < ROUNDS; round++) {
      add('hookline otel drain', await measure(hooklineSystem, 'drain', N, { otel: true }));
    }
    // work() polls at most every 0.5 s, so one short run tells all there is to know.
    const bossWork = await boss('work', WORKERS, Math.min(N, 2_000));
    const bestBoss = (key: string) =>
      (bossRuns.get(key) ?? []).reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const bossSpread = (key: string) => (bossRuns.get(key) ?? []).map((r) => fmt(r.perSecond)).join(' / ');
    for (const list of runs.values()) {
      for (const run of list)
        bytesPerBody = Math.max(bytesPerBody, run.received.bytes / run.received.requests);
    }
    const received = await receiver.count();

    console.log(
      `PostgreSQL delivery: hookline vs graphile-worker ${version('graphile-worker')} vs BullMQ ${version('bullmq')}, ` +
        `pg-boss ${version('pg-boss')} for context; ${fmt(N)} signed POSTs of ~${fmt(bytesPerBody)} B, ` +
        `node ${process.version}${quick ? ' (--quick)' : ''}`,
    );
    console.log(
      `database ${URL_.replace(/\/\/[^@]*@/, '//…@')}, Redis ${context.redis.host}:${context.redis.port}, ` +
        `receiver pid ${receiver.child.pid} (${fmt(received)} requests, sampled signatures all valid)`,
    );
    console.log(
      `${WORKERS} worker processes × concurrency ${CONCURRENCY} per system; ${PRODUCERS} producers for "enqueue included"; ` +
        `best of ${ROUNDS} interleaved runs (all in brackets); CPU: median per delivery`,
    );
    console.log('');
    console.log(
      `emit() with 10 matching webhooks (10 deliveries per call):  p50 ${latency.p50.toFixed(2)} ms   p99 ${latency.p99.toFixed(2)} ms`,
    );
    console.log('');
    const rows: string[][] = [
      [
        'system',
        'drain /s',
        'enqueue included /s',
        'enqueues/s alone',
        'server CPU/delivery',
        'worker CPU/delivery',
      ],
    ];
    for (const system of systems) {
      const drain = best(`${system.name} drain`);
      const enqueue = best(`${system.name} enqueue`);
      rows.push([
        system.name,
        `${fmt(drain.perSecond)} (${spread(`${system.name} drain`)})`,
        `${fmt(enqueue.perSecond)} (${spread(`${system.name} enqueue`)})`,
        fmt(enqueue.enqueuePerSecond ?? 0),
        `${cpu(`${system.name} drain`).toFixed(3)} ms ${system.server === 'redis' ? 'Redis' : 'PostgreSQL'}`,
        `${workerCpu(`${system.name} drain`).toFixed(3)} ms`,
      ]);
    }
    for (const [key, label] of [
      ['hookline async drain', 'hookline, workers synchronous_commit=off'],
      ['hookline otel drain', 'hookline, OpenTelemetry SDK (no-op exporters)'],
      ['graphile batching drain', 'graphile-worker, localQueue 64 + batched completion'],
    ] as const) {
      const run = best(key);
      rows.push([
        label,
        `${fmt(run.perSecond)} (${spread(key)})`,
        '',
        '',
        `${cpu(key).toFixed(3)} ms PostgreSQL`,
        `${workerCpu(key).toFixed(3)} ms`,
      ]);
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const row of rows)
      console.log(
        row
          .map((cell, c) => cell.padEnd(widths[c]!))
          .join('  ')
          .trimEnd(),
      );
    console.log('');

    const hookline = best('hookline drain');
    const hooklineAsync = best('hookline async drain');
    const hooklineOtel = best('hookline otel drain');
    console.log(
      `hookline: with an OpenTelemetry SDK (no-op exporters):  ${fmt(hooklineOtel.perSecond)} deliveries/s (${hooklineOtel.seconds.toFixed(2)} s)  runs: ${spread('hookline otel drain')}  (${((hooklineOtel.perSecond / hookline.perSecond) * 100).toFixed(0)} % of without)`,
    );
    const bossList = [
      { label: `${WORKERS} × work(), batchSize ${CONCURRENCY}`, run: bossWork, runs: '' },
      {
        label: `1 fetch/complete loop, batch ${CONCURRENCY}`,
        run: bestBoss('boss1'),
        runs: bossSpread('boss1'),
      },
      {
        label: `${WORKERS} fetch/complete loops, batch ${CONCURRENCY}`,
        run: bestBoss('boss4'),
        runs: bossSpread('boss4'),
      },
    ];
    for (const { label, run, runs: all } of bossList) {
      console.log(
        `pg-boss:  ${label.padEnd(34)} no-op jobs:  ${fmt(run.perSecond)} jobs/s (${run.seconds.toFixed(2)} s)${all ? `  runs: ${all}` : ''}`,
      );
    }
    console.log('');

    const line = (name: string, ratio: number, target: number) =>
      console.log(
        `ratio ${name}: ${ratio.toFixed(2)}×  (target >= ${target})  ${ratio >= target ? 'PASS' : 'FAIL'}`,
      );
    const graphileDrain = best('graphile-worker drain');
    const graphileEnqueue = best('graphile-worker enqueue');
    line('drain hookline / graphile-worker', hookline.perSecond / graphileDrain.perSecond, 1.5);
    line(
      'enqueue included hookline / graphile-worker',
      best('hookline enqueue').perSecond / graphileEnqueue.perSecond,
      1.5,
    );
    line(
      'PostgreSQL CPU per delivery graphile-worker / hookline',
      cpu('graphile-worker drain') / cpu('hookline drain'),
      1,
    );
    const bullDrain = best('BullMQ drain');
    const bullEnqueue = best('BullMQ enqueue');
    console.log(
      `context, no target: drain hookline / graphile-worker with batching ${(hookline.perSecond / best('graphile batching drain').perSecond).toFixed(2)}×, ` +
        `its PostgreSQL CPU / hookline's ${(cpu('graphile batching drain') / cpu('hookline drain')).toFixed(2)}×; ` +
        `drain hookline / BullMQ ${(hookline.perSecond / bullDrain.perSecond).toFixed(2)}×, ` +
        `enqueue included hookline / BullMQ ${(best('hookline enqueue').perSecond / bullEnqueue.perSecond).toFixed(2)}×`,
    );
    const bestPgBoss = bossList.reduce((a, b) => (b.run.perSecond > a.run.perSecond ? b : a));
    for (const [name, run] of [
      ['hookline', hookline],
      ['hookline (workers: synchronous_commit=off)', hooklineAsync],
    ] as const) {
      line(`${name} / best pg-boss (${bestPgBoss.label})`, run.perSecond / bestPgBoss.run.perSecond, 1);
    }
  }
} finally {
  receiver.close();
  await pool.end();
  // Every key this run made (its queues were obliterated; this catches what a failed run left).
  if (redis.status === 'ready') {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${tag}_bull:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = nextCursor;
    } while (cursor !== '0');
  }
  redis.disconnect();
}
