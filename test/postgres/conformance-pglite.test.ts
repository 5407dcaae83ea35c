import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll } from 'vitest';
import type { PostgresStore } from '../../src/stores/postgres/index.js';
import { storeConformance } from '../../src/testing/conformance-index.js';
import { destroyStore, freshStore, newPGlite } from './helpers.js';

let db: PGlite;
beforeAll(async () => {
  db = await newPGlite();
});
afterAll(async () => {
  await db.close();
});

storeConformance({
  name: 'postgres on PGlite',
  createStore: () => freshStore(db),
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
