/**
 * Wake-ups of the PostgreSQL store: an emit on the store's own connection commits without
 * `pg_notify` (a notify in every emit made concurrent emits commit one at a time), and the
 * store's waker sends one notify statement after it: at most one in flight, one more for the
 * commits that came meanwhile. An emit inside the host's transaction notifies at its commit.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { type PostgresStore, postgresStore, withTransaction } from '../../src/stores/postgres/index.js';
import { createWaker } from '../../src/stores/postgres/wake.js';
import { type Receiver, startReceiver } from '../delivery/receiver.js';
import { DATABASE_URL, describeServer, dropSchema, serverPool, uniqueSchema } from './helpers.js';

/** A promise and its resolve, for sends the test finishes by hand. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  const settle: { resolve?: () => void; reject?: (error: Error) => void } = {};
  const promise = new Promise<void>((resolve, reject) => {
    settle.resolve = resolve;
    settle.reject = reject;
  });
  return { promise, resolve: () => settle.resolve?.(), reject: (error) => settle.reject?.(error) };
}

describe('createWaker: at most one wake-up in flight, one more for those asked meanwhile', () => {
  it('sends the first at once and exactly one more for every wake() while it was in flight', async () => {
    const sends: ReturnType<typeof deferred>[] = [];
    const waker = createWaker(() => {
      const send = deferred();
      sends.push(send);
      return send.promise;
    });
    const first = waker.wake();
    expect(sends).toHaveLength(1);
    const later = [waker.wake(), waker.wake(), waker.wake()];
    expect(sends).toHaveLength(1); // owed, not sent: one in flight
    let laterDone = false;
    void Promise.all(later).then(() => {
      laterDone = true;
    });
    sends[0]?.resolve();
    await first;
    expect(sends).toHaveLength(2); // the three asked meanwhile: one send, started as the first ended
    expect(laterDone).toBe(false); // they wait for the send that started after them
    sends[1]?.resolve();
    await Promise.all(later);
    await waker.idle();
    expect(sends).toHaveLength(2);
    expect(waker.sent).toBe(2);
    const again = waker.wake(); // nothing in flight: at once
    expect(sends).toHaveLength(3);
    sends[2]?.resolve();
    await again;
    await waker.idle();
  });

  it('idle() waits for the owed send too', async () => {
    let sends = 0;
    const waker = createWaker(() => {
      sends++;
      // Each send finishes by itself, one turn later.
      return new Promise((resolve) => setImmediate(resolve));
    });
    void waker.wake();
    void waker.wake();
    await waker.idle();
    expect(sends).toBe(2);
    expect(waker.sent).toBe(2);
  });

  it('a failed send is reported and does not stop later ones', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const waker = createWaker(
      () => (++calls === 1 ? Promise.reject(new Error('database down')) : Promise.resolve()),
      (error) => errors.push(error),
    );
    await Promise.all([waker.wake(), waker.wake()]); // never rejects
    await waker.idle();
    expect(calls).toBe(2);
    expect(errors).toEqual([new Error('database down')]);
  });
});

describeServer('wake-ups of emits on the PostgreSQL store', () => {
  let admin: pg.Pool;
  let receiver: Receiver;
  const arrivals: (() => void)[] = [];
  beforeAll(async () => {
    admin = serverPool({ max: 4 });
    receiver = await startReceiver();
    receiver.route('/hook', (_req, res) => {
      res.end('ok');
      for (const tick of arrivals) tick();
    });
  });
  afterAll(async () => {
    await receiver.close();
    await admin.end();
  });

  /** Resolves once the receiver has had `count` requests; fails after `ms` (far below the poll interval). */
  function received(count: number, ms = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (receiver.hits('/hook') >= count) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`${receiver.hits('/hook')} of ${count} deliveries within ${ms} ms`)),
        ms,
      );
      arrivals.push(() => {
        if (receiver.hits('/hook') >= count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /**
   * A LISTEN client on the store's channel that records payloads; `mark()` sends a marker
   * through the server and resolves once it is heard, so every notification committed before
   * it has been heard too (PostgreSQL delivers them in commit order).
   */
  async function listener(channel: string) {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    client.on('error', () => undefined);
    await client.connect();
    const heard: string[] = [];
    const waiting = new Map<string, () => void>();
    client.on('notification', (message) => {
      const payload = message.payload ?? '';
      heard.push(payload);
      waiting.get(payload)?.();
    });
    await client.query(`LISTEN "${channel}"`);
    let marks = 0;
    return {
      /** The wake-ups heard so far (markers left out). */
      wakeups: () => heard.filter((payload) => !payload.startsWith('mark-')).length,
      /** Their payloads. */
      payloads: () => heard.filter((payload) => !payload.startsWith('mark-')),
      async mark(): Promise<void> {
        const marker = `mark-${++marks}`;
        const heardIt = new Promise<void>((resolve) => waiting.set(marker, resolve));
        await admin.query('SELECT pg_notify($1, $2)', [channel, marker]);
        await heardIt;
      },
      close: () => client.end(),
    };
  }

  /** A store on its own pool (as another process would have), migrated, and its cleanup. */
  async function setup() {
    const schema = uniqueSchema();
    const pools: pg.Pool[] = [];
    const stores: PostgresStore[] = [];
    const storeOnOwnPool = () => {
      const pool = serverPool({ max: 4 });
      pools.push(pool);
      const store = postgresStore({ db: pool, schema });
      stores.push(store);
      return store;
    };
    const emitterStore = storeOnOwnPool();
    await emitterStore.migrate();
    return {
      schema,
      emitterStore,
      storeOnOwnPool,
      async close() {
        for (const store of stores) await store.close();
        for (const pool of pools) await pool.end();
        await dropSchema(admin, schema);
      },
    };
  }

  it('an emit wakes a worker of another store object on another pool within milliseconds, not at its poll', async () => {
    const ctx = await setup();
    const emitter = new WebhookRegistry({ store: ctx.emitterStore });
    const workerStore = ctx.storeOnOwnPool();
    // Known once the worker listens: deliveries emitted after that and sent within seconds were woken.
    const watch = workerStore.watch?.bind(workerStore);
    if (!watch) throw new Error('the store has no watch()');
    const settle: { listening?: () => void } = {};
    const watched = new Promise<void>((resolve) => {
      settle.listening = resolve;
    });
    workerStore.watch = async (listener) => {
      const stop = await watch(listener);
      settle.listening?.();
      return stop;
    };
    const worker = new WebhookRegistry({ store: workerStore }).worker({
      ssrf: { allow: ['127.0.0.1'] },
      pollIntervalMs: 60_000,
      timeoutMs: 5_000,
    });
    try {
      await emitter.create('acme', { url: receiver.url('/hook'), eventTypes: ['pay'] });
      worker.start();
      await watched;
      const before = receiver.hits('/hook');
      for (let n = 1; n <= 3; n++) {
        await emitter.emit({ scope: 'acme', type: 'pay', data: { n } });
        await received(before + n);
      }
      // And a batch: one wake-up for all of it.
      await emitter.emitMany([
        { scope: 'acme', type: 'pay', data: { n: 4 } },
        { scope: 'acme', type: 'pay', data: { n: 5 } },
      ]);
      await received(before + 5);
    } finally {
      await worker.stop();
      await ctx.close();
    }
  });

  it('concurrent emits commit without a notify each: fewer wake-ups than emits, and one after the last commit', async () => {
    const ctx = await setup();
    const emitter = new WebhookRegistry({ store: ctx.emitterStore });
    const listen = await listener(ctx.emitterStore.channel);
    try {
      const hook = await emitter.create('acme', { url: receiver.url('/hook'), eventTypes: ['pay'] });
      const emits = 48;
      await Promise.all(
        Array.from({ length: emits }, (_, n) => emitter.emit({ scope: 'acme', type: 'pay', data: { n } })),
      );
      // Every emit resolved after its commit; close() sends the wake-ups still owed.
      await ctx.emitterStore.close();
      await listen.mark();
      expect(listen.wakeups()).toBeGreaterThanOrEqual(1);
      expect(listen.wakeups()).toBeLessThan(emits);
      // The wake-up that came last was sent after every emit had committed: all are visible to it.
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM "${ctx.schema}".deliveries WHERE webhook_id = $1 AND state = 'pending'`,
        [hook.id],
      );
      expect(rows[0]).toEqual({ n: emits });
    } finally {
      await listen.close();
      await ctx.close();
    }
  });

  it('an emit that stores no pending delivery sends no wake-up', async () => {
    const ctx = await setup();
    const emitter = new WebhookRegistry({ store: ctx.emitterStore });
    const listen = await listener(ctx.emitterStore.channel);
    try {
      const result = await emitter.emit({ scope: 'acme', type: 'nobody-listens', data: {} });
      expect(result.deliveries).toBe(0);
      await ctx.emitterStore.close();
      await listen.mark();
      expect(listen.wakeups()).toBe(0);
    } finally {
      await listen.close();
      await ctx.close();
    }
  });

  it('emits in withTransaction wake once, after its COMMIT (not in the transaction), and never for a rollback', async () => {
    const ctx = await setup();
    const emitter = new WebhookRegistry({ store: ctx.emitterStore });
    const listen = await listener(ctx.emitterStore.channel);
    const pool = serverPool({ max: 2 });
    try {
      await emitter.create('acme', { url: receiver.url('/hook'), eventTypes: ['pay'] });
      let heardInside = -1;
      await withTransaction(pool, async (tx) => {
        await emitter.emit({ scope: 'acme', type: 'pay', data: {} }, { tx });
        await emitter.emit({ scope: 'acme', type: 'pay', data: {} }, { tx });
        await emitter.emitMany([{ scope: 'acme', type: 'pay', data: {} }], { tx });
        await listen.mark();
        heardInside = listen.wakeups();
      });
      expect(heardInside).toBe(0); // nothing before the commit
      await listen.mark();
      // withTransaction resolved after the wake-up was sent: one for the three emits.
      expect(listen.wakeups()).toBe(1);
      // The transaction committed without a notify of its own (so PostgreSQL did not hold the
      // notify lock at its commit): the one wake-up is the store's statement, with its token.
      expect(listen.payloads()).toEqual([expect.stringMatching(/^hookline:wake:[0-9a-f]+$/)]);
      await expect(
        withTransaction(pool, async (tx) => {
          await emitter.emit({ scope: 'acme', type: 'pay', data: {} }, { tx });
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await listen.mark();
      expect(listen.wakeups()).toBe(1);

      // A worker of another store object (another process) gets them long before its poll.
      const worker = new WebhookRegistry({ store: ctx.storeOnOwnPool() }).worker({
        pollIntervalMs: 60_000,
        ssrf: { allow: ['127.0.0.1'] },
      });
      const before = receiver.hits('/hook');
      worker.start();
      try {
        await received(before + 3);
        const arrived = received(before + 4);
        await withTransaction(pool, (tx) => emitter.emit({ scope: 'acme', type: 'pay', data: {} }, { tx }));
        await arrived;
      } finally {
        await worker.stop();
      }
    } finally {
      await pool.end();
      await listen.close();
      await ctx.close();
    }
  });

  it('withTransaction emits on a pool whose every connection is in such a transaction do not deadlock on the wake-up', async () => {
    const ctx = await setup();
    // The store's own pool is the host's pool, with as many connections as concurrent
    // transactions: a wake-up sent while the transaction still held its connection would wait
    // for a connection forever.
    const pool = serverPool({ max: 2 });
    const store = postgresStore({ db: pool, schema: ctx.schema });
    const registry = new WebhookRegistry({ store });
    try {
      await registry.create('acme', { url: receiver.url('/hook'), eventTypes: ['pay'] });
      const emits = Array.from({ length: 8 }, () =>
        withTransaction(pool, (tx) => registry.emit({ scope: 'acme', type: 'pay', data: {} }, { tx })),
      );
      const results = await Promise.all(emits);
      expect(results.map((r) => r.deliveries)).toEqual(Array(8).fill(1));
    } finally {
      await store.close();
      await pool.end();
      await ctx.close();
    }
  }, 20_000);

  it("an emit in the host's transaction wakes at its commit, and never for a rollback", async () => {
    const ctx = await setup();
    const emitter = new WebhookRegistry({ store: ctx.emitterStore });
    const listen = await listener(ctx.emitterStore.channel);
    const pool = serverPool({ max: 2 });
    try {
      await emitter.create('acme', { url: receiver.url('/hook'), eventTypes: ['pay'] });
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await emitter.emit({ scope: 'acme', type: 'pay', data: {} }, { tx: client });
        await emitter.emitMany([{ scope: 'acme', type: 'pay', data: {} }], { tx: client });
        await listen.mark();
        expect(listen.wakeups()).toBe(0); // not before the commit
        await client.query('COMMIT');
        await listen.mark();
        // Both notifies of the transaction are one (PostgreSQL folds equal ones).
        expect(listen.wakeups()).toBe(1);

        await client.query('BEGIN');
        await emitter.emit({ scope: 'acme', type: 'pay', data: {} }, { tx: client });
        await client.query('ROLLBACK');
        await listen.mark();
        expect(listen.wakeups()).toBe(1);
      } finally {
        client.release();
      }
      // The store's own waker sent nothing for them.
      await ctx.emitterStore.close();
      await listen.mark();
      expect(listen.wakeups()).toBe(1);
    } finally {
      await pool.end();
      await listen.close();
      await ctx.close();
    }
  });
});
