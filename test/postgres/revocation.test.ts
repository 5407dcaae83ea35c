import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { type PostgresStore, postgresStore, type Queryable } from '../../src/stores/postgres/index.js';
import { ONE_SENT, whileFirstInFlight } from '../delivery/first-in-flight.js';
import { holdRequests, type Receiver, startReceiver } from '../delivery/receiver.js';
import { describeServer, dropSchema, newPGlite, serverPool, uniqueSchema } from './helpers.js';

// A webhook disabled or removed by another process (another store object, another pool): the
// worker that holds claims of it hears of it through LISTEN and sends none of them.

let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

function revocationCases(dbs: () => { web: Queryable; worker: Queryable }) {
  it.each([
    ['disable()', (r: WebhookRegistry, id: number) => r.disable('acme', id).then(() => undefined)],
    ['remove()', (r: WebhookRegistry, id: number) => r.remove('acme', id)],
  ] as const)('%s in another process: the worker sends nothing it had parked', async (_name, change) => {
    const schema = uniqueSchema();
    const { web: webDb, worker: workerDb } = dbs();
    const webStore: PostgresStore = postgresStore({ db: webDb, schema });
    const workerStore: PostgresStore = postgresStore({ db: workerDb, schema });
    await webStore.migrate();
    const web = new WebhookRegistry({ store: webStore });
    const worker = new WebhookRegistry({ store: workerStore }).worker({
      ssrf: { allow: ['127.0.0.1'] },
      timeoutMs: 5_000,
      concurrency: 1,
      perWebhookConcurrency: 1,
    });
    try {
      const hold = holdRequests(receiver, '/hold');
      const { states, sent } = await whileFirstInFlight({ registry: web, worker, hold }, (id) =>
        change(web, id),
      );
      expect(sent).toBe(1);
      expect(states).toEqual(ONE_SENT);
    } finally {
      await worker.stop();
      await workerStore.close();
      await webStore.close();
      await dropSchema(webDb, schema);
    }
  });
}

describeServer('revocation across processes on the real server', () => {
  let webPool: pg.Pool;
  let workerPool: pg.Pool;
  beforeAll(() => {
    webPool = serverPool({ max: 4 });
    workerPool = serverPool({ max: 4 });
  });
  afterAll(async () => {
    await webPool.end();
    await workerPool.end();
  });
  revocationCases(() => ({ web: webPool, worker: workerPool }));
});

describe('revocation across store objects on one PGlite', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = await newPGlite();
  });
  afterAll(() => db.close());
  revocationCases(() => ({ web: db, worker: db }));
});
