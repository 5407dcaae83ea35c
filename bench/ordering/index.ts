/**
 * bench/ordering: what ordered delivery (`ordering: 'fifo'`) costs on PostgreSQL, against the
 * same webhook unordered, in one run.
 *
 *   HOOKLINE_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/ordering/index.ts [--quick]
 *     [--cases=unordered,lines-1,lines-100,lines-N] [--rounds=3] [--json]
 *
 * The job is bench/postgres's (job.ts): Standard Webhooks-signed POSTs of ~750-byte JSON bodies
 * to the keep-alive receiver process (receiver.mjs: counts distinct `webhook-id`s, checks a
 * sample of signatures), sent by 4 forked hookline worker processes at concurrency 32
 * (peers/hookline-worker.ts, each with a pool of 16 connections). For each case N deliveries are
 * emitted first (100 `emit()` calls at a time, one delivery each), the worker processes are
 * forked, made ready and started together, and the run is timed from the start until the
 * receiver has all N: deliveries/s. Cases:
 *
 * - `unordered`: the webhook has `ordering: 'none'` (what every webhook did before);
 * - `lines-1`: `ordering: 'fifo'`, no `orderingKey`: the whole webhook is one line, so its N
 *   deliveries are sent one at a time, in emit order;
 * - `lines-100`: `ordering: 'fifo'`, `orderingKey` one of 100 keys (round robin);
 * - `lines-N`: `ordering: 'fifo'`, a key of its own per notification: N lines of one delivery.
 *
 * Also printed: emits/s while filling the backlog, PostgreSQL's CPU per delivery
 * (bench/postgres/cpu.ts) and the worker processes' (process.cpuUsage()): on a shared machine
 * these move less with the neighbours' load than deliveries/s do. One untimed unordered warm-up run of 2 000 first; then each case runs
 * `--rounds` times (default 3, `--quick` 1), interleaved, and is represented by its median;
 * ratios are to the unordered median of the same run. N = 10 000 (`--quick`: 2 000).
 * `--cases` picks cases (e.g. `--cases=unordered` also runs on a tree without ordered delivery,
 * which is how compare.ts measures the cost for unordered webhooks); `--json` prints the runs
 * as one JSON line at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type WebhookInput, WebhookRegistry } from '../../src/index.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { postgresCpuMsSince, postgresSnapshot } from '../postgres/cpu.js';
import { startFleet } from '../postgres/fleet.js';
import { BENCH_SCOPE, BENCH_SECRET, BENCH_TYPE, orderData } from '../postgres/job.js';
import { startReceiver } from '../postgres/receiver-process.js';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const option = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? undefined;
const N = quick ? 2_000 : 10_000;
const WARMUP = 2_000;
const WORKERS = 4;
const CONCURRENCY = 32;
const POOL_PER_PROCESS = 16;
const ROUNDS = Number(option('rounds') ?? (quick ? 1 : 3));
const URL_ =
  process.env.HOOKLINE_BENCH_DATABASE_URL ??
  process.env.HOOKLINE_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const tag = `hookline_bench_${process.pid}_${randomBytes(3).toString('hex')}`;

/** A case: how the webhook is ordered and which key notification `i` gets. */
interface Case {
  name: string;
  label: string;
  fifo: boolean;
  key(i: number): string | undefined;
}
const ALL_CASES: Case[] = [
  { name: 'unordered', label: 'unordered', fifo: false, key: () => undefined },
  { name: 'lines-1', label: 'ordered, 1 line', fifo: true, key: () => undefined },
  { name: 'lines-100', label: 'ordered, 100 lines', fifo: true, key: (i) => `k${i % 100}` },
  { name: 'lines-N', label: `ordered, ${N.toLocaleString('en-US')} lines`, fifo: true, key: (i) => `k${i}` },
];
const picked = option('cases')?.split(',');
const cases = picked ? ALL_CASES.filter((c) => picked.includes(c.name)) : ALL_CASES;
if (picked && cases.length !== picked.length) {
  console.error(`unknown case in --cases; have: ${ALL_CASES.map((c) => c.name).join(', ')}`);
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: URL_, max: 20, idleTimeoutMillis: 0, application_name: tag });
pool.on('error', () => undefined);
pool.on('connect', (client) => client.on('error', () => undefined));
const receiver = await startReceiver();

interface Run {
  perSecond: number;
  seconds: number;
  emitsPerSecond: number;
  /** PostgreSQL CPU per delivery, ms. */
  serverMs: number;
  /** The worker processes' CPU per delivery, ms. */
  workerMs: number;
}

let counter = 0;
async function measure(c: Case, count: number): Promise<Run> {
  const schema = `${tag}_${c.name.replace('-', '_').toLowerCase()}_${counter++}`;
  const store = postgresStore({ db: pool, schema });
  await store.migrate();
  try {
    const registry = new WebhookRegistry({ store });
    const webhook: WebhookInput = {
      url: `http://127.0.0.1:${receiver.port}/hook`,
      eventTypes: [BENCH_TYPE],
      secrets: [BENCH_SECRET],
    };
    // Only set when ordered, so that `--cases=unordered` runs on code without the field.
    await registry.create(BENCH_SCOPE, c.fifo ? { ...webhook, ordering: 'fifo' } : webhook);
    const emitStart = performance.now();
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, (_, j) => {
          const key = c.key(i + j);
          return registry.emit({
            scope: BENCH_SCOPE,
            type: BENCH_TYPE,
            data: orderData(i + j),
            ...(key === undefined ? {} : { orderingKey: key }),
          });
        }),
      );
    }
    const emitsPerSecond = count / ((performance.now() - emitStart) / 1000);
    await pool.query(`ANALYZE "${schema}".deliveries`);
    const fleet = await startFleet(
      'hookline-worker',
      {
        url: URL_,
        port: receiver.port,
        concurrency: CONCURRENCY,
        poolMax: POOL_PER_PROCESS,
        appName: `${tag}_hookline-worker`,
        schema,
      },
      WORKERS,
    );
    try {
      // One line goes one delivery at a time: allow it down to 10 deliveries/s.
      const { reached } = await receiver.arm(count, Math.max(120_000, count * 100));
      const before = postgresSnapshot();
      const start = performance.now();
      await fleet.go();
      const received = await reached;
      const seconds = (performance.now() - start) / 1000;
      const serverMs = await postgresCpuMsSince(before, pool, tag);
      const workers = await fleet.stop();
      if (received.checked === 0 || received.bad > 0) {
        throw new Error(`${c.name}: ${received.bad} of ${received.checked} checked signatures invalid`);
      }
      if (workers.processed < count) {
        throw new Error(`${c.name}: workers report ${workers.processed} of ${count} deliveries done`);
      }
      return {
        perSecond: count / seconds,
        seconds,
        emitsPerSecond,
        serverMs: serverMs / count,
        workerMs: workers.cpuMs / count,
      };
    } catch (error) {
      fleet.kill();
      throw error;
    }
  } finally {
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

const runs = new Map<string, Run[]>();
try {
  await measure(ALL_CASES[0]!, Math.min(N, WARMUP));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      const run = await measure(c, N);
      runs.set(c.name, [...(runs.get(c.name) ?? []), run]);
    }
  }
  console.log(
    `ordered delivery on PostgreSQL: ${fmt(N)} signed POSTs of ~750 B, ${WORKERS} worker processes × concurrency ` +
      `${CONCURRENCY}, median of ${ROUNDS} interleaved run${ROUNDS === 1 ? '' : 's'} (all in brackets), ` +
      `node ${process.version}${quick ? ' (--quick)' : ''}`,
  );
  console.log('');
  const unordered = runs.get('unordered');
  const base = unordered ? median(unordered.map((r) => r.perSecond)) : undefined;
  const rows: string[][] = [
    [
      'case',
      'deliveries/s',
      'vs unordered',
      'emits/s (backlog)',
      'PostgreSQL CPU/delivery',
      'worker CPU/delivery',
    ],
  ];
  for (const c of cases) {
    const list = runs.get(c.name) ?? [];
    const rate = median(list.map((r) => r.perSecond));
    rows.push([
      c.label,
      `${fmt(rate)} (${list.map((r) => fmt(r.perSecond)).join(' / ')})`,
      base === undefined ? '' : `${((rate / base) * 100).toFixed(1)} %`,
      fmt(median(list.map((r) => r.emitsPerSecond))),
      `${median(list.map((r) => r.serverMs)).toFixed(3)} ms`,
      `${median(list.map((r) => r.workerMs)).toFixed(3)} ms`,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) {
    console.log(
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    );
  }
  if (json) console.log(JSON.stringify({ n: N, runs: Object.fromEntries(runs) }));
} finally {
  receiver.close();
  await pool.end();
}
