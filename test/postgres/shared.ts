import { expect, it } from 'vitest';
import { ConflictError, HooklineError, ValidationError } from '../../src/errors.js';
import { WebhookRegistry } from '../../src/index.js';
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  migrate,
  type PostgresStore,
  postgresStore,
  type Queryable,
  withTransaction,
} from '../../src/stores/postgres/index.js';
import { newDelivery, webhookFields } from '../../src/testing/conformance-index.js';
import { destroyStore, dropSchema, freshStore, sleep, uniqueSchema } from './helpers.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');

/** Waits until `check()` is true, or fails after `ms`. */
export async function waitFor(check: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/**
 * Behaviour every driver must show beyond the conformance suite: migrations, transactional
 * emit, wake-ups, error mapping. `db()` is the connection under test; `hostTx` runs a host
 * transaction the way that driver's users would.
 */
export function sharedBehaviour(
  db: () => Queryable,
  hostTx: <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T>,
) {
  const withStore =
    (run: (store: PostgresStore) => Promise<void>, options = {}) =>
    async () => {
      const store = await freshStore(db(), options);
      try {
        await run(store);
      } finally {
        await destroyStore(store);
      }
    };

  const orders = async (store: PostgresStore) => {
    const table = `"${store.schema}".orders`;
    await db().query(`CREATE TABLE ${table} (id integer PRIMARY KEY)`);
    return table;
  };

  it(
    'answers a value PostgreSQL cannot store (a NUL, given to the store directly) with a ValidationError',
    withStore(async (store) => {
      const attempt = store.insertWebhook({
        scope: 'a',
        fields: webhookFields({ comment: 'a\u0000b' }),
        now: T0,
      });
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
      await expect(attempt).rejects.toMatchObject({ issues: [{ code: 'not_storable' }] });
      const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
      const bad = { ...newDelivery(hook.id), type: 'x\u0000' };
      await expect(
        store.enqueue({ scope: 'a', notificationId: 'n', deliveries: [bad], now: T0 }),
      ).rejects.toMatchObject({ code: 'validation_failed' });
    }),
  );

  it('migrates once, records the version, and is idempotent', async () => {
    const schema = uniqueSchema();
    try {
      expect(await migrate({ db: db(), schema })).toEqual({
        from: 0,
        to: LATEST_SCHEMA_VERSION,
        applied: MIGRATIONS.map((m) => m.version),
      });
      expect(await migrate({ db: db(), schema })).toEqual({
        from: LATEST_SCHEMA_VERSION,
        to: LATEST_SCHEMA_VERSION,
        applied: [],
      });
      const { rows } = await db().query(`SELECT version, name FROM "${schema}".migrations ORDER BY version`);
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    } finally {
      await dropSchema(db(), schema);
    }
  });

  it('refuses a schema migrated by a newer hookline, in migrate() and on first use', async () => {
    const schema = uniqueSchema();
    try {
      await migrate({ db: db(), schema });
      await db().query(`INSERT INTO "${schema}".migrations (version, name) VALUES (999, 'from the future')`);
      const error = await migrate({ db: db(), schema }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HooklineError);
      expect(error).toMatchObject({
        code: 'store_failed',
        message: expect.stringMatching(/version 999.*Upgrade hookline/),
      });
      const store = postgresStore({ db: db(), schema });
      await expect(store.getWebhook({ scope: 'a', id: 1 })).rejects.toMatchObject({
        code: 'store_failed',
        message: expect.stringMatching(/Upgrade hookline/),
      });
    } finally {
      await dropSchema(db(), schema);
    }
  });

  it('says to migrate when the tables are not there', async () => {
    const store = postgresStore({ db: db(), schema: uniqueSchema() });
    await expect(store.listWebhooks({ scope: 'a', offset: 0, limit: null })).rejects.toMatchObject({
      code: 'store_failed',
      message: expect.stringMatching(/migrate\(\)/),
    });
  });

  it('rejects unsafe schema names and a db without query()', () => {
    expect(() => postgresStore({ db: db(), schema: 'x"; DROP TABLE y; --' })).toThrow(ValidationError);
    expect(() => postgresStore({ db: db(), schema: 'a'.repeat(49) })).toThrow(ValidationError);
    expect(() => postgresStore({ db: {} as Queryable })).toThrow(ValidationError);
  });

  it('keeps recordDelayMs (default 2 ms) and rejects one that is not a number from 0 to 1 000', () => {
    expect(postgresStore({ db: db() }).recordDelayMs).toBe(2);
    expect(postgresStore({ db: db(), recordDelayMs: 0 }).recordDelayMs).toBe(0);
    expect(postgresStore({ db: db(), recordDelayMs: 7.5 }).recordDelayMs).toBe(7.5);
    expect(postgresStore({ db: db(), recordDelayMs: 1_000 }).recordDelayMs).toBe(1_000);
    for (const recordDelayMs of [-1, 1_001, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      let error: unknown;
      try {
        postgresStore({ db: db(), recordDelayMs });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues).toEqual([
        expect.objectContaining({ path: ['recordDelayMs'], code: 'invalid_record_delay' }),
      ]);
    }
  });

  it(
    'maps a taken delivery id to a ConflictError and stores nothing of that notification',
    withStore(async (store) => {
      const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
      const d = newDelivery(hook.id);
      await store.enqueue({ scope: 'a', notificationId: 'n1', deliveries: [d], now: T0 });
      const fresh = newDelivery(hook.id);
      const error = await store
        .enqueue({ scope: 'a', notificationId: 'n2', deliveries: [fresh, { ...d }], now: T0 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).field).toBe('id');
      expect(await store.getDelivery({ scope: 'a', id: fresh.id })).toBeNull();
      const retry = await store.enqueue({ scope: 'a', notificationId: 'n2', deliveries: [fresh], now: T0 });
      expect(retry.created).toBe(true);
    }),
  );

  it(
    'wraps other database errors as store_failed with the cause',
    withStore(async (store) => {
      // A database fault, not the caller's value: the table is gone.
      await db().query(`DROP TABLE "${store.schema}".webhooks CASCADE`);
      const error = await store
        .insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HooklineError);
      expect(error).toMatchObject({
        code: 'store_failed',
        message: expect.stringMatching(/insertWebhook failed/),
      });
      expect((error as Error).cause).toBeDefined();
    }),
  );

  it(
    'enqueues inside the host transaction: rollback keeps neither, commit keeps both',
    withStore(async (store) => {
      const table = await orders(store);
      const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
      const rolledBack = newDelivery(hook.id);
      await expect(
        hostTx(async (tx) => {
          await tx.query(`INSERT INTO ${table} (id) VALUES (1)`);
          await store.enqueue({
            scope: 'a',
            notificationId: 'order-1',
            deliveries: [rolledBack],
            now: T0,
            tx,
          });
          throw new Error('host changed its mind');
        }),
      ).rejects.toThrow('host changed its mind');
      expect((await db().query(`SELECT id FROM ${table}`)).rows).toEqual([]);
      expect(await store.getDelivery({ scope: 'a', id: rolledBack.id })).toBeNull();

      const committed = newDelivery(hook.id);
      await hostTx(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id) VALUES (1)`);
        const result = await store.enqueue({
          scope: 'a',
          notificationId: 'order-1',
          deliveries: [committed],
          now: T0,
          tx,
        });
        expect(result.created).toBe(true);
      });
      expect((await db().query(`SELECT id FROM ${table}`)).rows).toEqual([{ id: 1 }]);
      expect(await store.getDelivery({ scope: 'a', id: committed.id })).toMatchObject({ state: 'pending' });
    }),
  );

  it(
    'registry.emit({ tx }) commits and rolls back with the host, with a cold match index',
    withStore(async (store) => {
      const table = await orders(store);
      const writer = new WebhookRegistry({ store });
      const hook = await writer.create('shop', {
        url: 'https://receiver.example/h',
        eventTypes: ['order.paid'],
      });
      const fresh = () => new WebhookRegistry({ store });
      await expect(
        hostTx(async (tx) => {
          await tx.query(`INSERT INTO ${table} (id) VALUES (7)`);
          const result = await fresh().emit(
            { id: 'paid-7', scope: 'shop', type: 'order.paid', data: { id: 7 } },
            { tx },
          );
          expect(result).toMatchObject({ deliveries: 1, created: true });
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect((await writer.deliveries('shop', hook.id)).count).toBe(0);
      await hostTx(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id) VALUES (7)`);
        await fresh().emit({ id: 'paid-7', scope: 'shop', type: 'order.paid', data: { id: 7 } }, { tx });
      });
      expect((await db().query(`SELECT id FROM ${table}`)).rows).toEqual([{ id: 7 }]);
      const deliveries = await writer.deliveries('shop', hook.id);
      expect(deliveries.items).toMatchObject([{ notificationId: 'paid-7', state: 'pending' }]);
    }),
  );

  it(
    'an emitting registry matches a webhook another registry (process) just created or disabled',
    withStore(async (store) => {
      const api = new WebhookRegistry({ store });
      const web = new WebhookRegistry({ store });
      await api.create('shop', { url: 'https://receiver.example/a', eventTypes: ['order.paid'] });
      expect((await web.emit({ scope: 'shop', type: 'order.paid', data: {} })).deliveries).toBe(1);
      const second = await api.create('shop', {
        url: 'https://receiver.example/b',
        eventTypes: ['order.paid'],
      });
      expect((await web.emit({ scope: 'shop', type: 'order.paid', data: {} })).deliveries).toBe(2);
      await api.disable('shop', second.id);
      expect((await web.emit({ scope: 'shop', type: 'order.paid', data: {} })).deliveries).toBe(1);
    }),
  );

  it(
    'rejects a webhooksVersion that no store gives with a ValidationError, storing nothing',
    withStore(async (store) => {
      const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
      for (const webhooksVersion of [-1, 1.5, Number.NaN]) {
        const d = newDelivery(hook.id);
        await expect(
          store.enqueue({
            scope: 'a',
            notificationId: `n${webhooksVersion}`,
            deliveries: [d],
            now: T0,
            webhooksVersion,
          }),
        ).rejects.toMatchObject({ issues: [expect.objectContaining({ path: ['webhooksVersion'] })] });
        expect(await store.getDelivery({ scope: 'a', id: d.id })).toBeNull();
      }
    }),
  );

  it(
    'emits without reading the webhook version while the index is cached, and matches again when it is stale',
    withStore(async (store) => {
      const api = new WebhookRegistry({ store });
      let reads = 0;
      const counted: PostgresStore = Object.assign(Object.create(store) as PostgresStore, {
        webhooksVersion: (input: { scope: string; tx?: unknown }) => {
          reads++;
          return store.webhooksVersion?.(input) ?? Promise.resolve(0);
        },
      });
      const web = new WebhookRegistry({ store: counted });
      const paid = { scope: 'shop', type: 'order.paid', data: {} };
      await api.create('shop', { url: 'https://receiver.example/a', eventTypes: ['order.paid'] });
      expect((await web.emit(paid)).deliveries).toBe(1);
      expect(reads).toBe(1); // the cold index
      for (let i = 0; i < 3; i++) expect((await web.emit(paid)).deliveries).toBe(1);
      await hostTx((tx) => web.emit(paid, { tx }));
      expect(reads).toBe(1);
      // Another process adds a webhook: the next emit's enqueue is stale, stores nothing, and
      // the emit matches again and stores both deliveries.
      await api.create('shop', { url: 'https://receiver.example/b', eventTypes: ['order.paid'] });
      const after = await hostTx((tx) => web.emit({ ...paid, id: 'after-b' }, { tx }));
      expect(after).toMatchObject({ deliveries: 2, created: true });
      expect(reads).toBe(2);
      const page = await api.searchDeliveries('shop', { limit: 50 });
      expect(page.items.filter((d) => d.notificationId === 'after-b')).toHaveLength(2);
      expect(page.items).toHaveLength(7);
    }),
  );

  it(
    'commits and rolls back with withTransaction()',
    withStore(async (store) => {
      const table = await orders(store);
      const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
      const lost = newDelivery(hook.id);
      await expect(
        withTransaction(db(), async (tx) => {
          await tx.query(`INSERT INTO ${table} (id) VALUES (2)`);
          await store.enqueue({ scope: 'a', notificationId: 'x', deliveries: [lost], now: T0, tx });
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      expect(await store.getDelivery({ scope: 'a', id: lost.id })).toBeNull();
      const kept = newDelivery(hook.id);
      const value = await withTransaction(db(), async (tx) => {
        await tx.query(`INSERT INTO ${table} (id) VALUES (2)`);
        await store.enqueue({ scope: 'a', notificationId: 'x', deliveries: [kept], now: T0, tx });
        return 'done';
      });
      expect(value).toBe('done');
      expect((await db().query(`SELECT count(*)::int AS n FROM ${table}`)).rows).toEqual([{ n: 1 }]);
      expect(await store.getDelivery({ scope: 'a', id: kept.id })).not.toBeNull();
    }),
  );

  it(
    'claims a batch in due order with one frozen webhook snapshot per webhook',
    withStore(async (store) => {
      const a = await store.insertWebhook({
        scope: 's',
        fields: webhookFields({ secrets: ['k'.repeat(32)] }),
        now: T0,
      });
      const b = await store.insertWebhook({ scope: 's', fields: webhookFields(), now: T0 });
      const at = (ms: number) => new Date(T0.getTime() + ms);
      // Due at T0+3, T0+1 and T0+2 ms: claimed in due order, not in insertion order.
      const deliveries = [newDelivery(a.id), newDelivery(b.id), newDelivery(a.id)];
      for (const [i, due] of [3, 1, 2].entries()) {
        await store.enqueue({
          scope: 's',
          notificationId: `n${i}`,
          deliveries: [deliveries[i]!],
          now: at(due),
        });
      }
      const claimed = await store.claimDue({ limit: 10, leaseMs: 60_000, now: at(10) });
      expect(claimed.map((c) => c.id)).toEqual([deliveries[1]!.id, deliveries[2]!.id, deliveries[0]!.id]);
      const [first, second, third] = claimed;
      expect(first!.webhook).toMatchObject({ id: b.id, scope: 's' });
      expect(second!.webhook).toBe(third!.webhook);
      expect(second!.webhook).toMatchObject({ id: a.id, secrets: ['k'.repeat(32)] });
      expect(Object.isFrozen(second!.webhook)).toBe(true);
      expect(Object.isFrozen(second!.webhook!.secrets)).toBe(true);
      expect(second!.leaseUntil).toEqual(at(60_010));
      expect(second!.request).toEqual(deliveries[2]!.request);
    }),
  );

  it(
    'rejects a tx that is not a transaction handle',
    withStore(async (store) => {
      await expect(
        store.enqueue({ scope: 'a', notificationId: 'n', deliveries: [], now: T0, tx: { nope: true } }),
      ).rejects.toBeInstanceOf(ValidationError);
    }),
  );

  it(
    'wakes watchers on enqueue and redeliver, after commit only, and stops on unwatch',
    withStore(async (store) => {
      let wakes = 0;
      const unwatch = await store.watch!(() => {
        wakes++;
      });
      const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
      const d = newDelivery(hook.id);
      await store.enqueue({ scope: 'a', notificationId: 'n1', deliveries: [d], now: T0 });
      await waitFor(() => wakes === 1);

      await hostTx(async (tx) => {
        await store.enqueue({
          scope: 'a',
          notificationId: 'n2',
          deliveries: [newDelivery(hook.id)],
          now: T0,
          tx,
        });
        throw new Error('rollback');
      }).catch(() => undefined);
      // A committed enqueue after the rolled-back one: notifications arrive in commit order, so
      // once its wake is in, a wake from the rollback would have arrived before it.
      await store.enqueue({ scope: 'a', notificationId: 'n2b', deliveries: [newDelivery(hook.id)], now: T0 });
      await waitFor(() => wakes >= 2);
      expect(wakes).toBe(2);

      const [claim] = await store.claimDue({ limit: 1, leaseMs: 1000, now: T0 });
      await store.cancelClaimed({
        deliveryId: claim!.id,
        leaseToken: claim!.leaseToken,
        reason: 'x',
        now: T0,
      });
      await store.redeliver({ scope: 'a', id: claim!.id, now: T0 });
      await waitFor(() => wakes === 3);

      // After unwatch, a second watcher sees the next enqueue; the first one does not.
      await unwatch();
      let later = 0;
      const unwatchLater = await store.watch!(() => {
        later++;
      });
      await store.enqueue({ scope: 'a', notificationId: 'n3', deliveries: [newDelivery(hook.id)], now: T0 });
      await waitFor(() => later === 1);
      await unwatchLater();
      expect(wakes).toBe(3);
    }),
  );

  it(
    'sends no notifications and offers no watch() with notify: false',
    withStore(
      async (store) => {
        expect(store.watch).toBeUndefined();
        const hook = await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: T0 });
        await store.enqueue({ scope: 'a', notificationId: 'n', deliveries: [newDelivery(hook.id)], now: T0 });
      },
      { notify: false },
    ),
  );
}
