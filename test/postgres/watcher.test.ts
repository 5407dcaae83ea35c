/**
 * The PostgreSQL store's watch(): what a payload on its channel means, listeners that throw, and
 * a connection that cannot LISTEN. On PGlite (its own listen()) and on the real server (a pg
 * client of the pool, the path another process's writes arrive by).
 */
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { postgresStore, type Queryable } from '../../src/stores/postgres/index.js';
import { parseSignal } from '../../src/stores/postgres/watcher.js';
import type { StoreSignal } from '../../src/stores/types.js';
import { describeServer, destroyStore, freshStore, newPGlite, serverPool } from './helpers.js';

const DUE: StoreSignal = { type: 'due' };

/** A listener that records the signals it hears; `count(n)` resolves once it has heard `n`. */
function recorder() {
  const seen: StoreSignal[] = [];
  let heard: () => void = () => undefined;
  return {
    seen,
    listener: (signal: StoreSignal) => {
      seen.push(signal);
      heard();
    },
    async count(n: number): Promise<void> {
      while (seen.length < n) {
        await new Promise<void>((resolve) => {
          heard = resolve;
        });
      }
    },
  };
}

/** A listener that throws every time, counting its calls. */
function thrower() {
  const calls = { count: 0 };
  const listener = () => {
    calls.count += 1;
    throw new Error('a listener that throws');
  };
  return { calls, listener };
}

describe('parseSignal: the payload of a notification on the store channel', () => {
  it.each([
    ['the empty payload the store sends for new work', ''],
    ['no payload', undefined],
    ['plain text', 'hello'],
    ['broken JSON', '{"s":"acme"'],
    ['JSON null', 'null'],
    ['a JSON number', '42'],
    ['a JSON string', '"acme"'],
    ['a JSON array', '[1, 2]'],
    ['an object without the webhook id', '{"s":"acme","e":true}'],
    ['a webhook id that is not an integer', '{"s":"acme","w":1.5,"e":true}'],
    ['a webhook id that is not a number', '{"s":"acme","w":"seven","e":true}'],
    ['a scope that is not a string', '{"s":1,"w":7,"e":true}'],
    ['an enabled flag that is neither boolean nor null', '{"s":"acme","w":7,"e":"yes"}'],
  ])('%s is a wake-up', (_name, payload) => {
    expect(parseSignal(payload)).toEqual(DUE);
  });

  it.each([
    ['enabled', '{"s":"acme","w":7,"e":true}', { scope: 'acme', webhookId: 7, enabled: true }],
    [
      'disabled, id as a string',
      '{"s":"acme","w":"7","e":false}',
      { scope: 'acme', webhookId: 7, enabled: false },
    ],
    ['removed', '{"s":"acme","w":7,"e":null}', { scope: 'acme', webhookId: 7, enabled: null }],
  ])('a webhook change (%s) is a webhook signal', (_name, payload, change) => {
    expect(parseSignal(payload)).toEqual({ type: 'webhook', ...change });
  });
});

/**
 * `db()` is the database under test; `other()` another connection to it (another process's
 * writes), or the same one where there is only one.
 */
function watchCases(db: () => Queryable, other: () => Queryable) {
  it('a payload of another program on the channel is a wake-up', async () => {
    const store = await freshStore(db());
    const heard = recorder();
    const unwatch = await store.watch!(heard.listener);
    try {
      for (const payload of ['hello', '{"event":"order.paid"}', '{"s":"acme","w":7,"e":false}']) {
        await other().query('SELECT pg_notify($1, $2)', [store.channel, payload]);
      }
      await heard.count(3);
      // In order; the last one, the store's own format, shows the channel is the one heard.
      expect(heard.seen).toEqual([
        DUE,
        DUE,
        { type: 'webhook', scope: 'acme', webhookId: 7, enabled: false },
      ]);
    } finally {
      await unwatch();
      await destroyStore(store);
    }
  });
}

/**
 * Listeners that throw: every signal, this store's own and the database's notifications (on
 * PGlite through its own listen(), in a microtask of its own), reaches the others, and nothing
 * is left uncaught (vitest fails a run on an uncaught error).
 */
function throwingListenerCases(db: () => Queryable, other: () => Queryable) {
  it("a listener that throws stops neither the write nor the other listeners, for this store's writes and the database's notifications", async () => {
    const store = await freshStore(db());
    const registry = new WebhookRegistry({ store });
    const first = thrower();
    const heard = recorder();
    // Listeners are called in the order they were added: the one that throws comes first.
    const unwatchFirst = await store.watch!(first.listener);
    const unwatch = await store.watch!(heard.listener);
    try {
      const hook = await registry.create('acme', { url: 'https://receiver.example/h', eventTypes: ['pay'] });
      const disabled: StoreSignal = { type: 'webhook', scope: 'acme', webhookId: hook.id, enabled: false };
      heard.seen.length = 0;
      first.calls.count = 0;
      // The write resolves, and this store's own signal has reached the second listener by then.
      await expect(registry.disable('acme', hook.id)).resolves.toMatchObject({ enabled: false });
      expect(heard.seen).toContainEqual(disabled);
      // The database's notification of the same change follows, through the same listeners.
      await heard.count(2);
      expect(heard.seen).toEqual([disabled, disabled]);
      expect(first.calls.count).toBe(2);
    } finally {
      await unwatchFirst();
      await unwatch();
      await destroyStore(store);
    }
  });

  it('a listener that throws does not stop the others hearing another store object', async () => {
    const writer = await freshStore(other());
    const store = postgresStore({ db: db(), schema: writer.schema });
    const first = thrower();
    const heard = recorder();
    const unwatchFirst = await store.watch!(first.listener);
    const unwatch = await store.watch!(heard.listener);
    try {
      const registry = new WebhookRegistry({ store: writer });
      const hook = await registry.create('acme', { url: 'https://receiver.example/h', eventTypes: ['pay'] });
      await registry.disable('acme', hook.id);
      await registry.remove('acme', hook.id);
      const removed: StoreSignal = { type: 'webhook', scope: 'acme', webhookId: hook.id, enabled: null };
      // Heard only through the database, in order: disabled, then removed.
      await heard.count(2);
      expect(heard.seen).toEqual([{ ...removed, enabled: false }, removed]);
      expect(first.calls.count).toBe(2);
    } finally {
      await unwatchFirst();
      await unwatch();
      await store.close();
      await destroyStore(writer);
    }
  });
}

describe('watch() on PGlite', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = await newPGlite();
  });
  afterAll(() => db.close());

  watchCases(
    () => db,
    () => db,
  );
  throwingListenerCases(
    () => db,
    () => db,
  );

  it('refuses a connection that can only query, saying what can LISTEN', async () => {
    // Not a pool, not a pg client, not PGlite: a query function and nothing else.
    const queryOnly: Queryable = { query: (text, params) => db.query(text, params) };
    const owner = await freshStore(db);
    const store = postgresStore({ db: queryOnly, schema: owner.schema });
    try {
      await store.listWebhooks({ scope: 'acme', offset: 0, limit: null }); // it does query
      const heard = recorder();
      const refusal = {
        code: 'store_failed',
        message:
          'watch() needs a connection that can LISTEN: pass a pg.Pool, a pg.Client, or notify: { connect }.',
      };
      await expect(store.watch!(heard.listener)).rejects.toMatchObject(refusal);
      // Every call says so: a refused watch leaves nothing half set up.
      await expect(store.watch!(heard.listener)).rejects.toMatchObject(refusal);
      expect(heard.seen).toEqual([]);
    } finally {
      await store.close();
      await destroyStore(owner);
    }
  });
});

describeServer('watch() on the real server', () => {
  let pool: pg.Pool;
  let otherPool: pg.Pool;
  beforeAll(() => {
    pool = serverPool({ max: 4 });
    otherPool = serverPool({ max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    await otherPool.end();
  });

  watchCases(
    () => pool,
    () => otherPool,
  );
  throwingListenerCases(
    () => pool,
    () => otherPool,
  );
});
