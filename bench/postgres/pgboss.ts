/**
 * pg-boss 10 in bench/postgres, in the bench's process, for context: no-op jobs (no HTTP), so
 * its figures are the queue alone.
 */

import type pg from 'pg';
import PgBoss from 'pg-boss';

export interface PgBossRun {
  perSecond: number;
  seconds: number;
}

/**
 * pg-boss processing `count` no-op jobs in a schema of its own. `work`: its `work()` API (polls
 * every 0.5 s, its minimum) with `loops` workers of batch `batchSize`. `fetch`: `loops` loops that
 * `fetch()` a batch and `complete()` it at once, with no wait while jobs are there: what a user
 * tuning pg-boss for throughput would write.
 */
export async function pgBossThroughput(options: {
  url: string;
  pool: pg.Pool;
  schema: string;
  mode: 'work' | 'fetch';
  loops: number;
  batchSize: number;
  count: number;
}): Promise<PgBossRun> {
  const { url, pool, schema, mode, loops, batchSize, count } = options;
  const boss = new PgBoss({ connectionString: url, schema, max: 20, supervise: false, schedule: false });
  boss.on('error', (e) => console.error('pg-boss error:', e.message));
  await boss.start();
  try {
    await boss.createQueue('bench');
    for (let i = 0; i < count; i += 1_000) {
      await boss.insert(
        Array.from({ length: Math.min(1_000, count - i) }, (_, j) => ({ name: 'bench', data: { i: i + j } })),
      );
    }
    let done = 0;
    const start = performance.now();
    if (mode === 'work') {
      for (let w = 0; w < loops; w++) {
        await boss.work('bench', { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
          done += jobs.length;
        });
      }
      while (done < count) await new Promise((r) => setTimeout(r, 5));
    } else {
      await Promise.all(
        Array.from({ length: loops }, async () => {
          while (done < count) {
            const jobs = await boss.fetch('bench', { batchSize });
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
    return { perSecond: count / seconds, seconds };
  } finally {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}
