/**
 * `registry.stats()` on PostgreSQL at 1 000 000 deliveries: the time per `outboxStats` call in
 * each shape (whole outbox, per scope, one scope) and the EXPLAIN (ANALYZE, BUFFERS) plan of
 * each, on a table filled with generate_series.
 *
 *   HOOKLINE_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/stats/index.ts [--quick]
 *
 * The table: N deliveries (1 000 000; 100 000 with --quick) over 100 scopes of 10 webhooks each;
 * 90 % finished (succeeded), 8 % pending and due, 1 % pending and due later, 1 % pending under
 * a live lease; 200 of the 1 000 webhooks failing. It also times building the partial index of
 * migration 3 (`deliveries_pending_by_scope`) on that table. Runs in a schema of its own and
 * drops it afterwards (URL default: HOOKLINE_TEST_DATABASE_URL, then
 * postgres://postgres@127.0.0.1:5432/test).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { outboxStats, statementContext } from '../../src/stores/postgres/statements.js';
import { FAILING_WEBHOOKS_LIMIT, type OutboxStats, type OutboxStatsInput } from '../../src/stores/types.js';

const quick = process.argv.includes('--quick');
const N = quick ? 100_000 : 1_000_000;
const SCOPES = 100;
const RUNS = 7;
const URL_ =
  process.env.HOOKLINE_BENCH_DATABASE_URL ??
  process.env.HOOKLINE_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const schema = `hookline_bench_stats_${process.pid}_${randomBytes(3).toString('hex')}`;
const s = `"${schema}"`;

const pool = new pg.Pool({ connectionString: URL_, max: 4 });
pool.on('error', () => undefined);

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const fmt = (n: number) => n.toFixed(n < 10 ? 2 : 1);

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const result = await run();
  return [result, ms(start)];
}

async function fill(): Promise<void> {
  // Webhook k (1..1000) is of scope `scope<(k-1)/10>`; ids are assigned in insert order.
  await pool.query(
    `INSERT INTO ${s}.webhooks (scope, enabled, url, method, event_types, all_events, limit_events, secrets,
       created_at, updated_at)
     SELECT 'scope' || (i / 10), true, 'https://receiver' || i || '.example/hook', 'POST', '["order.paid"]'::jsonb,
            true, '[]'::jsonb, '[]'::jsonb, now(), now()
       FROM generate_series(0, ${SCOPES * 10 - 1}) AS i ORDER BY i`,
  );
  await pool.query(
    `UPDATE ${s}.webhooks SET failing_since = now() - (id || ' minutes')::interval, consecutive_failures = id % 7
      WHERE id % 5 = 0`,
  );
  // Delivery g: scope g % 100, webhook (g / 10 000) % 10 of it; its state by r = (g / 100) % 100.
  await pool.query(
    `INSERT INTO ${s}.deliveries (id, scope, webhook_id, notification_id, type, event, request, state, attempt_count,
       next_attempt_at, last_status, lease_token, lease_until, created_at, updated_at)
     SELECT 'msg_' || g, 'scope' || (g % ${SCOPES}), (g % ${SCOPES}) * 10 + (g / 10000) % 10 + 1, 'ntf_' || g,
            'order.paid', NULL,
            '{"url":"https://receiver.example/hook","method":"POST","headers":{},"body":"{}"}'::jsonb,
            CASE WHEN r < 90 THEN 'succeeded' ELSE 'pending' END,
            CASE WHEN r < 90 THEN 1 ELSE 0 END,
            CASE WHEN r < 90 THEN NULL
                 WHEN r = 98 THEN now() + ((g % 3600) || ' seconds')::interval
                 ELSE now() - ((g % 3600) || ' seconds')::interval END,
            CASE WHEN r < 90 THEN 200 END,
            CASE WHEN r = 99 THEN 'lease_' || g END,
            CASE WHEN r = 99 THEN now() + interval '2 minutes' END,
            now() - interval '1 hour', now()
       FROM (SELECT g, (g / 100) % 100 AS r FROM generate_series(0, ${N - 1}) AS g) AS rows`,
  );
  await pool.query(`VACUUM ANALYZE ${s}.webhooks`);
  await pool.query(`VACUUM ANALYZE ${s}.deliveries`);
}

async function main(): Promise<void> {
  const store = postgresStore({ db: pool, schema, notify: false });
  const outbox = store.outboxStats?.bind(store);
  if (!outbox) throw new Error('the PostgreSQL store has no outboxStats');
  await store.migrate();
  console.log(`filling ${N.toLocaleString('en-US')} deliveries in ${schema} …`);
  const [, fillMs] = await timed(fill);
  const { rows: counts } = await pool.query(
    `SELECT count(*) AS total, count(*) FILTER (WHERE state = 'pending') AS pending FROM ${s}.deliveries`,
  );
  console.log(`filled in ${(fillMs / 1000).toFixed(1)} s:`, counts[0]);

  // Migration 3's index, built again on the full table (what upgrading a large outbox costs).
  await pool.query(`DROP INDEX ${s}.deliveries_pending_by_scope`);
  const [, indexMs] = await timed(() =>
    pool.query(
      `CREATE INDEX deliveries_pending_by_scope ON ${s}.deliveries (scope, next_attempt_at) WHERE state = 'pending'`,
    ),
  );
  console.log(`building deliveries_pending_by_scope: ${fmt(indexMs)} ms`);
  await pool.query(`ANALYZE ${s}.deliveries`);

  const sql = statementContext(schema, false);
  const shapes: { label: string; input: Omit<OutboxStatsInput, 'now'> }[] = [
    { label: 'whole outbox', input: {} },
    { label: 'per scope', input: { perScope: true } },
    { label: 'one scope', input: { scope: 'scope42' } },
    { label: 'one scope, per scope', input: { scope: 'scope42', perScope: true } },
  ];
  for (const { label, input } of shapes) {
    const now = new Date();
    const times: number[] = [];
    let result: OutboxStats | undefined;
    for (let i = 0; i < RUNS; i++) {
      const [stats, t] = await timed(() => outbox({ now, ...input }));
      result = stats;
      if (i > 0) times.push(t); // the first run warms the cache
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] as number;
    console.log(
      `\n## ${label}: median ${fmt(median)} ms, min ${fmt(times[0] as number)} ms, max ${fmt(times.at(-1) as number)} ms ` +
        `(${RUNS - 1} runs after a warm-up)`,
    );
    const { failingWebhooks, scopes, ...totals } = result!;
    console.log(
      '   result:',
      JSON.stringify({ ...totals, failingWebhooks: failingWebhooks.length, scopes: scopes?.length }),
    );
    const statement = outboxStats(sql, {
      scoped: input.scope !== undefined,
      perScope: input.perScope === true,
      limit: FAILING_WEBHOOKS_LIMIT,
    });
    const params = input.scope === undefined ? [now.toISOString()] : [now.toISOString(), input.scope];
    const { rows } = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, params);
    for (const row of rows as { 'QUERY PLAN': string }[]) console.log(`   ${row['QUERY PLAN']}`);
  }
}

try {
  await main();
} finally {
  await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await pool.end();
}
