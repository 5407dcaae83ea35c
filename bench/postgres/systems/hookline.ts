/**
 * hookline in bench/postgres: one webhook (signed, matching every notification) in a schema of
 * the run's own; jobs are `emit()`ed notifications, each stored as one delivery.
 */
import { WebhookRegistry } from '../../../src/index.js';
import { postgresStore, withTransaction } from '../../../src/stores/postgres/index.js';
import { BENCH_SCOPE, BENCH_SECRET, BENCH_TYPE, orderData } from '../job.js';
import type { BenchSystem } from './types.js';

export const hooklineSystem: BenchSystem = {
  name: 'hookline',
  script: 'hookline-worker',
  server: 'postgres',
  async prepare({ pool, tag, port }, label) {
    const schema = `${tag}_hl_${label}`;
    const store = postgresStore({ db: pool, schema });
    await store.migrate();
    const registry = new WebhookRegistry({ store });
    await registry.create(BENCH_SCOPE, {
      url: `http://127.0.0.1:${port}/hook`,
      eventTypes: [BENCH_TYPE],
      secrets: [BENCH_SECRET],
    });
    const notification = (i: number) => ({ scope: BENCH_SCOPE, type: BENCH_TYPE, data: orderData(i) });
    return {
      config: { schema },
      async backlog(count) {
        for (let i = 0; i < count; i += 100) {
          await Promise.all(
            Array.from({ length: Math.min(100, count - i) }, (_, j) => registry.emit(notification(i + j))),
          );
        }
        // As autovacuum would on a live table: the planner needs statistics for the claim query.
        await pool.query(`ANALYZE "${schema}".deliveries`);
      },
      async addOne(i) {
        await withTransaction(pool, (tx) => registry.emit(notification(i), { tx }));
      },
      async cleanup() {
        await store.close();
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  },
};
