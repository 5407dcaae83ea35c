import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { EmitMessage } from '../../src/observability/channels.js';
import { WebhookRegistry } from '../../src/registry/registry.js';
import { memoryStore } from '../../src/stores/memory/store.js';
import type { Store } from '../../src/stores/types.js';

const unsubscribers: (() => void)[] = [];
afterEach(() => {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
});

/** A registry on `store` with two webhooks for `order.paid` and one for `order.shipped`. */
async function setup(store: Store = memoryStore()) {
  const registry = new WebhookRegistry({ store });
  const paid = [
    await registry.create('acme', { url: 'https://receiver.example/a', eventTypes: ['order.paid'] }),
    await registry.create('acme', { url: 'https://receiver.example/b', eventTypes: ['order.paid'] }),
  ];
  const shipped = await registry.create('acme', {
    url: 'https://receiver.example/c',
    eventTypes: ['order.shipped'],
  });
  return { registry, paid, shipped };
}

describe('registry.emitMany()', () => {
  it('stores every notification and answers one EmitResult per notification, in order', async () => {
    const { registry, paid, shipped } = await setup();
    const results = await registry.emitMany([
      { scope: 'acme', type: 'order.paid', data: { code: 'A' } },
      { scope: 'acme', type: 'order.shipped', data: { code: 'A' } },
      { scope: 'acme', type: 'nobody.listens', data: {} },
    ]);
    expect(results.map((r) => [r.deliveries, r.created])).toEqual([
      [2, true],
      [1, true],
      [0, true],
    ]);
    expect(new Set(results.map((r) => r.notificationId)).size).toBe(3);
    const first = await registry.getDelivery('acme', results[0]?.deliveryIds[0] ?? '');
    expect(first).toMatchObject({ webhookId: paid[0]?.id, notificationId: results[0]?.notificationId });
    expect(JSON.parse(first.request.body)).toMatchObject({ data: { code: 'A' } });
    const second = await registry.getDelivery('acme', results[1]?.deliveryIds[0] ?? '');
    expect(second).toMatchObject({ webhookId: shipped.id, type: 'order.shipped', state: 'pending' });
  });

  it('is idempotent per notification id, also for an id repeated in the batch', async () => {
    const { registry } = await setup();
    const before = await registry.emit({ id: 'n-1', scope: 'acme', type: 'order.paid', data: {} });
    const results = await registry.emitMany([
      { id: 'n-1', scope: 'acme', type: 'order.paid', data: {} },
      { id: 'n-2', scope: 'acme', type: 'order.paid', data: {} },
      { id: 'n-2', scope: 'acme', type: 'order.paid', data: {} },
    ]);
    expect(results[0]).toEqual({ ...before, created: false });
    expect(results[1]).toMatchObject({ notificationId: 'n-2', created: true, deliveries: 2 });
    expect(results[2]).toEqual({ ...results[1], created: false });
    const page = await registry.deliveries('acme', (await registry.list('acme')).items[0]?.id ?? 0);
    expect(page.count).toBe(2); // n-1 and n-2 once each
  });

  it('refuses a bad notification naming its index, and stores none of the batch', async () => {
    const { registry } = await setup();
    const error = await registry
      .emitMany([
        { scope: 'acme', type: 'order.paid', data: {} },
        { scope: 'acme', type: '', data: {} },
        { scope: 'acme', type: 'order.paid', data: { name: 'a\u0000b' } },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const paths = (error as ValidationError).issues.map((issue) => issue.path);
    expect(paths).toContainEqual([2, 'data', 'name']);
    expect(paths.some((path) => path[0] === 1 && path[1] === 'type')).toBe(true);
    expect(paths.every((path) => path[0] === 1 || path[0] === 2)).toBe(true);
    const page = await registry.deliveries('acme', (await registry.list('acme')).items[0]?.id ?? 0);
    expect(page.count).toBe(0);
  });

  it('refuses what is not an array, and stores nothing for an empty one', async () => {
    const { registry } = await setup();
    const error = await registry.emitMany({} as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: [], code: 'not_array', message: 'emitMany() takes an array of notifications.' },
    ]);
    expect(await registry.emitMany([])).toEqual([]);
  });

  it('calls enqueueMany once for the batch', async () => {
    const store = memoryStore();
    const calls: string[] = [];
    const enqueueMany = store.enqueueMany?.bind(store);
    const enqueue = store.enqueue.bind(store);
    store.enqueueMany = (input) => {
      calls.push(`enqueueMany(${input.items.length})`);
      return enqueueMany ? enqueueMany(input) : Promise.reject(new Error('missing'));
    };
    store.enqueue = (input) => {
      calls.push('enqueue');
      return enqueue(input);
    };
    const { registry } = await setup(store);
    await registry.emitMany([
      { scope: 'acme', type: 'order.paid', data: {} },
      { scope: 'acme', type: 'order.shipped', data: {} },
    ]);
    expect(calls).toEqual(['enqueueMany(2)']);
  });

  it('falls back to one enqueue per notification on a store without enqueueMany', async () => {
    const store = memoryStore();
    delete store.enqueueMany;
    const { registry } = await setup(store);
    const results = await registry.emitMany([
      { id: 'x', scope: 'acme', type: 'order.paid', data: {} },
      { id: 'x', scope: 'acme', type: 'order.paid', data: {} },
      { scope: 'acme', type: 'order.shipped', data: {} },
    ]);
    expect(results.map((r) => [r.deliveries, r.created])).toEqual([
      [2, true],
      [2, false],
      [1, true],
    ]);
    expect(results[1]?.deliveryIds).toEqual(results[0]?.deliveryIds);
  });

  it('publishes one hookline:emit message per notification', async () => {
    const { registry } = await setup();
    const messages: EmitMessage[] = [];
    const listener = (message: unknown) => messages.push(message as EmitMessage);
    diagnosticsChannel.subscribe('hookline:emit', listener);
    unsubscribers.push(() => diagnosticsChannel.unsubscribe('hookline:emit', listener));
    const results = await registry.emitMany([
      { scope: 'acme', type: 'order.paid', event: 'democon', data: {} },
      { scope: 'acme', type: 'order.shipped', data: {} },
    ]);
    expect(messages.map((m) => [m.notificationId, m.type, m.event, m.deliveryIds, m.created])).toEqual([
      [results[0]?.notificationId, 'order.paid', 'democon', results[0]?.deliveryIds, true],
      [results[1]?.notificationId, 'order.shipped', null, results[1]?.deliveryIds, true],
    ]);
  });
});
