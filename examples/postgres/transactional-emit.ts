/**
 * Transactional emit on PostgreSQL: the notification exists if and only if the host's own change
 * commits. Runs against `DATABASE_URL` (default: the local test server) in its own schema, and
 * drops that schema at the end.
 *
 *   npx tsx examples/postgres/transactional-emit.ts
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { WebhookRegistry } from '../../src/index.js';
import { postgresStore, type Queryable, withTransaction } from '../../src/stores/postgres/index.js';
import { isMain } from '../shared/handlers.js';

/** What the example did, for its smoke test. */
export interface ExampleResult {
  /** Deliveries stored for the order whose transaction rolled back (expected 0). */
  rolledBack: number;
  /** Bodies the receiver got (expected: the committed order only). */
  received: string[];
}

/**
 * Runs the example on `db` (a `pg.Pool`, or a PGlite in the smoke test) in `schema`.
 *
 * @example
 * ```ts
 * await runExample({ db: new pg.Pool({ connectionString }), schema: 'hookline_example' });
 * ```
 */
export async function runExample(options: {
  db: Queryable;
  schema: string;
  log?: (line: string) => void;
}): Promise<ExampleResult> {
  const { db, schema } = options;
  const log = options.log ?? (() => undefined);
  const received: string[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString('utf8'));
      res.end('ok');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const { port } = receiver.address() as AddressInfo;

  const store = postgresStore({ db, schema });
  try {
    await store.migrate();
    await db.query(`CREATE TABLE IF NOT EXISTS "${schema}".orders (id integer PRIMARY KEY, total text)`);
    const registry = new WebhookRegistry({ store });
    await registry.create('shop', { url: `http://127.0.0.1:${port}/hooks`, eventTypes: ['order.paid'] });

    // 1. The host's transaction fails after emitting: neither the order nor the notification stays.
    await withTransaction(db, async (tx) => {
      await tx.query(`INSERT INTO "${schema}".orders (id, total) VALUES (1, 'EUR 10')`);
      await registry.emit(
        { id: 'order-1-paid', scope: 'shop', type: 'order.paid', data: { order: 1 } },
        { tx },
      );
      throw new Error('payment provider said no');
    }).catch((error: Error) => log(`order 1: rolled back (${error.message})`));
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM "${schema}".deliveries WHERE notification_id = 'order-1-paid'`,
    );
    const rolledBack = Number((rows[0] as { n: number }).n);
    log(`order 1: ${rolledBack} deliveries stored`);

    // 2. The host's transaction commits: the order and its notification exist together.
    await withTransaction(db, async (tx) => {
      await tx.query(`INSERT INTO "${schema}".orders (id, total) VALUES (2, 'EUR 20')`);
      await registry.emit(
        { id: 'order-2-paid', scope: 'shop', type: 'order.paid', data: { order: 2 } },
        { tx },
      );
    });
    log('order 2: committed');

    const worker = registry.worker({ ssrf: { allow: ['127.0.0.1'] } });
    await worker.drain();
    await worker.stop();
    log(`receiver got: ${received.join(', ')}`);
    return { rolledBack, received };
  } finally {
    await store.close();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    receiver.close();
  }
}

if (isMain(import.meta.url)) {
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  });
  await runExample({ db: pool, schema: `hookline_example_${process.pid}`, log: console.log });
  await pool.end();
}
