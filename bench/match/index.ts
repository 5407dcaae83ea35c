/**
 * Matching benchmark: hookline's compiled index against the naive picomatch loop and qlobber.
 *
 *   npx tsx bench/match/index.ts           # N = 100, 10 000, 100 000
 *   npx tsx bench/match/index.ts --quick   # N = 100, 1 000, 10 000 and fewer queries
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  createMatchIndex,
  type MatchableWebhook,
  type MatchQuery,
  naiveMatch,
} from '../../src/matching/index.js';
import { type CountMatches, naiveLoop, qlobberTypeOnly, qlobberWithSlug } from './peers.js';
import { makeQueries, makeWebhooks, TYPES } from './workload.js';

const quick = process.argv.includes('--quick');
const SIZES = quick ? [100, 1_000, 10_000] : [100, 10_000, 100_000];
const QUERIES = quick ? 20_000 : 100_000;
/** Wall-clock budget per peer and size; a peer stops at the first chunk boundary after it. */
const PEER_BUDGET_MS = quick ? 1_000 : 4_000;

v8.setFlagsFromString('--expose_gc');
const gc: () => void = globalThis.gc ?? (vm.runInNewContext('gc') as () => void);
const heapUsed = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

interface Run {
  name: string;
  queries: number;
  matches: number;
  ns: number;
}

/** Runs `count` over a prefix of `queries` (whole chunks until the budget is spent). */
function timeRun(name: string, count: CountMatches, queries: readonly MatchQuery[], budgetMs: number): Run {
  for (let i = 0; i < Math.min(200, queries.length); i++) count(queries[i] as MatchQuery); // warm-up
  const chunk = 100;
  let done = 0;
  let matches = 0;
  const start = process.hrtime.bigint();
  const deadline = performance.now() + budgetMs;
  while (done < queries.length) {
    const end = Math.min(done + chunk, queries.length);
    for (; done < end; done++) matches += count(queries[done] as MatchQuery);
    if (performance.now() > deadline) break;
  }
  return { name, queries: done, matches, ns: Number(process.hrtime.bigint() - start) };
}

/** Builds an index of `webhooks` and queries every type once (which fills the per-type cache). */
function buildIndex(webhooks: readonly MatchableWebhook[]) {
  const t0 = performance.now();
  const index = createMatchIndex<MatchableWebhook>();
  for (const w of webhooks) index.upsert(w);
  const t1 = performance.now();
  for (const type of TYPES) index.match({ type, event: null });
  return { index, upsertMs: t1 - t0, warmMs: performance.now() - t1 };
}

function median<V>(values: readonly V[], by: (v: V) => number): V {
  return [...values].sort((a, b) => by(a) - by(b))[Math.floor(values.length / 2)] as V;
}

const fmt = (x: number, digits = 0): string =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const results: { target: string; ok: boolean; detail: string }[] = [];
const target = (name: string, ok: boolean, detail: string) => results.push({ target: name, ok, detail });

for (const n of SIZES) {
  const webhooks = makeWebhooks(n, 42 + n);
  const queries = makeQueries(QUERIES, 7);

  // Build three times (a fresh index each, garbage collected first) and keep the median time;
  // the heap delta is that of one build with the per-type cache filled.
  const builds = [0, 1, 2].map(() => {
    const before = heapUsed();
    const build = buildIndex(webhooks);
    return { ...build, heapMb: (heapUsed() - before) / 2 ** 20 };
  });
  const { index, upsertMs, warmMs, heapMb } = median(builds, (b) => b.upsertMs + b.warmMs);
  const buildMs = upsertMs + warmMs;

  // Per-query match counts of the index, so each peer is checked on exactly the prefix it ran.
  const prefix = new Float64Array(queries.length + 1);
  queries.forEach((q, i) => {
    prefix[i + 1] = (prefix[i] ?? 0) + index.match(q).length;
  });
  for (let i = 0; i < 50; i++) {
    const q = queries[i] as MatchQuery;
    if (naiveMatch(webhooks, q).length !== index.match(q).length)
      throw new Error(`naiveMatch disagrees on ${q.type}`);
  }

  const runs: Run[] = [
    timeRun('hookline index', (q) => index.match(q).length, queries, Number.POSITIVE_INFINITY),
  ];
  runs.push(timeRun('naive picomatch loop', naiveLoop(webhooks), queries, PEER_BUDGET_MS));
  runs.push(timeRun('qlobber type-only + filter', qlobberTypeOnly(webhooks), queries, PEER_BUDGET_MS));
  runs.push(timeRun('qlobber slug-encoded', qlobberWithSlug(webhooks), queries, PEER_BUDGET_MS));

  for (const run of runs) {
    const expected = prefix[run.queries];
    if (run.matches !== expected)
      throw new Error(`${run.name}: ${run.matches} matches, index has ${expected}`);
  }
  const base = runs[0] as Run;
  const nsPerQuery = (r: Run) => r.ns / r.queries;
  console.log(
    `\nN = ${fmt(n)} webhooks, ${TYPES.length} types: build ${fmt(buildMs, 1)} ms (upserts ${fmt(upsertMs, 1)} + first query per type ${fmt(warmMs, 1)}; median of 3), heap +${fmt(heapMb, 1)} MB`,
  );
  console.log(
    `${'implementation'.padEnd(28)} ${'queries'.padStart(8)} ${'ops/s'.padStart(12)} ${'ns/query'.padStart(12)} ${'ns/match'.padStart(9)} ${'matches/q'.padStart(9)} ${'index is'.padStart(10)}`,
  );
  for (const r of runs) {
    const perQuery = nsPerQuery(r);
    console.log(
      `${r.name.padEnd(28)} ${fmt(r.queries).padStart(8)} ${fmt(1e9 / perQuery).padStart(12)} ${fmt(perQuery).padStart(12)} ${fmt(r.ns / Math.max(1, r.matches), 1).padStart(9)} ${fmt(r.matches / r.queries, 1).padStart(9)} ${`${fmt(perQuery / nsPerQuery(base), 1)}x`.padStart(10)}`,
    );
  }

  const ratio = (name: string) => nsPerQuery(runs.find((r) => r.name === name) as Run) / nsPerQuery(base);
  const naive = ratio('naive picomatch loop');
  const qlobber = Math.min(ratio('qlobber type-only + filter'), ratio('qlobber slug-encoded'));
  if (n === 10_000) {
    target('N=10k: >= 50x naive loop', naive >= 50, `${fmt(naive, 1)}x`);
    target('N=10k: >= 2x faster qlobber set-up', qlobber >= 2, `${fmt(qlobber, 1)}x`);
  }
  if (n === 100_000) {
    target('N=100k: >= 100x naive loop', naive >= 100, `${fmt(naive, 1)}x`);
    target('N=100k: build+warm < 300 ms', buildMs < 300, `${fmt(buildMs, 1)} ms`);
    target('N=100k: memory < 100 MB', heapMb < 100, `${fmt(heapMb, 1)} MB`);
  }
}

console.log('\nTargets');
for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.target.padEnd(36)} ${r.detail}`);
if (quick) console.log('(quick mode: the N=100k targets are not measured)');
if (results.some((r) => !r.ok)) process.exitCode = 1;
