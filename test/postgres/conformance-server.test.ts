import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { PostgresStore } from '../../src/stores/postgres/index.js';
import { storeConformance } from '../../src/testing/conformance-index.js';
import { describeServer, destroyStore, dropRunSchemas, freshStore, serverPool } from './helpers.js';

describeServer('postgres on the real server', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = serverPool();
  });
  afterAll(async () => {
    await dropRunSchemas(pool);
    await pool.end();
  });

  storeConformance({
    name: 'postgres on a pg.Pool',
    createStore: () => freshStore(pool),
    destroyStore: (store) => destroyStore(store as PostgresStore),
    capabilities: {
      watch: true,
      webhooksVersion: true,
      close: true,
      outboxStats: true,
      searchDeliveries: true,
      webhookActivity: true,
      enqueueMany: true,
    },
  });
});
