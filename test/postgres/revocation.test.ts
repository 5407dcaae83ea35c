import type http from 'node:http';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { type PostgresStore, postgresStore, type Queryable } from '../../src/postgres/index.js';
import { type Receiver, startReceiver } from '../delivery/receiver.js';
import { describeServer, dropSchema, newPGlite, serverPool, uniqueSchema } from './helpers.js';

// A webhook disabled or removed by another process (another store object, another pool): the
// worker that holds claims of it hears of it through LISTEN and sends none of them.

let receiver: Receiver;
let held: http.ServerResponse[] = [];
const arrivals: (() => void)[] = [];

beforeAll(async () => {
  receiver = await startReceiver();
  receiver.route('/hold', (_req, res) => {
    held.push(res);
    for (const resolve of arrivals.splice(0)) resolve();
  });
});
afterAll(() => receiver.close());

async function firstHeld(): Promise<void> {
  while (held.length === 0) await new Promise<void>((resolve) => arrivals.push(resolve));
}

function revocationCases(dbs: () => { web: Queryable; worker: Queryable }) {
  it.each([
    ['disable()', (r: WebhookRegistry, id: number) => r.disable('acme', id).then(() => undefined)],
    ['remove()', (r: WebhookRegistry, id: number) => r.remove('acme', id)],
  ] as const)('%s in another process: the worker sends nothing it had parked', async (_name, change) => {
    held = [];
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
      const hook = await web.create('acme', { url: receiver.url('/hold'), eventTypes: ['pay'] });
      const before = receiver.hits('/hold');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push(...(await web.emit({ scope: 'acme', type: 'pay', data: { i } })).deliveryIds);
      worker.start();
      await firstHeld();
      await change(web, hook.id);
      for (const res of held.splice(0)) res.end('ok');
      await worker.drain();
      await worker.stop();
      expect(receiver.hits('/hold') - before).toBe(1);
      const states = await Promise.all(ids.map(async (id) => (await web.getDelivery('acme', id)).state));
      expect(states).toEqual(['succeeded', 'canceled', 'canceled']);
      for (const id of ids.slice(1)) expect((await web.attempts('acme', id)).count).toBe(0);
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
