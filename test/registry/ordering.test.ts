/**
 * The registry's side of ordered delivery: the webhook fields `ordering` and
 * `orderingOnFailure` (create, update, replace), the notification's `orderingKey` (checked, and
 * passed to the deliveries of FIFO webhooks only), pings (never ordered) and
 * `registry.deliveryLine()`.
 */
import { describe, expect, it } from 'vitest';
import { HooklineError } from '../../src/errors.js';
import { WebhookRegistry } from '../../src/registry/registry.js';
import { memoryStore } from '../../src/stores/memory/store.js';
import type { Store } from '../../src/stores/types.js';
import { captureTransport, createFakeClock } from '../../src/testing/index.js';
import { validationIssues } from '../helpers/errors.js';

const T0 = Date.parse('2026-05-01T08:00:00.000Z');

function setup(store: Store = memoryStore()) {
  const clock = createFakeClock({ now: T0 });
  const registry = new WebhookRegistry({ store, clock, retryPolicy: { name: 'none', delaysMs: [] } });
  return { clock, registry };
}

/** A registry with a FIFO webhook (`fifo`) and an unordered one (`free`), both for `order.*`. */
async function twoWebhooks(store?: Store) {
  const s = setup(store);
  const fifo = await s.registry.create('acme', {
    url: 'https://receiver.example/fifo',
    eventTypes: ['order.*'],
    ordering: 'fifo',
  });
  const free = await s.registry.create('acme', {
    url: 'https://receiver.example/free',
    eventTypes: ['order.*'],
  });
  return { ...s, fifo, free };
}

describe('webhook ordering fields', () => {
  it('default to none / continue, and are set by create, update and replace', async () => {
    const { registry } = setup();
    const plain = await registry.create('acme', { url: 'https://receiver.example/a', eventTypes: ['x'] });
    expect(plain).toMatchObject({ ordering: 'none', orderingOnFailure: 'continue' });
    const ordered = await registry.create('acme', {
      url: 'https://receiver.example/b',
      eventTypes: ['x'],
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    expect(ordered).toMatchObject({ ordering: 'fifo', orderingOnFailure: 'pause' });
    expect(await registry.get('acme', ordered.id)).toMatchObject({
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });

    // update: only what the patch names changes.
    expect(await registry.update('acme', ordered.id, { comment: 'orders' })).toMatchObject({
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    expect(await registry.update('acme', ordered.id, { orderingOnFailure: 'continue' })).toMatchObject({
      ordering: 'fifo',
      orderingOnFailure: 'continue',
    });
    expect(await registry.update('acme', plain.id, { ordering: 'fifo' })).toMatchObject({
      ordering: 'fifo',
      orderingOnFailure: 'continue',
    });
    // replace: omitted optional fields take their defaults, as for create.
    expect(
      await registry.replace('acme', ordered.id, { url: 'https://receiver.example/b', eventTypes: ['x'] }),
    ).toMatchObject({ ordering: 'none', orderingOnFailure: 'continue' });
    expect(
      await registry.replace('acme', ordered.id, {
        url: 'https://receiver.example/b',
        eventTypes: ['x'],
        ordering: 'fifo',
        orderingOnFailure: 'pause',
      }),
    ).toMatchObject({ ordering: 'fifo', orderingOnFailure: 'pause' });
    // list carries them too.
    expect((await registry.list('acme')).items.map((w) => [w.ordering, w.orderingOnFailure])).toEqual([
      ['fifo', 'continue'],
      ['fifo', 'pause'],
    ]);
  });

  it('refuses values other than the known ones, with the field as the issue path', async () => {
    const { registry } = setup();
    const hook = await registry.create('acme', { url: 'https://receiver.example/a', eventTypes: ['x'] });
    const base = { url: 'https://receiver.example/a', eventTypes: ['x'] };
    const bad: [unknown, string][] = [
      [{ ordering: 'lifo' }, 'ordering'],
      [{ ordering: 'FIFO' }, 'ordering'],
      [{ ordering: null }, 'ordering'],
      [{ ordering: 1 }, 'ordering'],
      [{ orderingOnFailure: 'stop' }, 'orderingOnFailure'],
      [{ orderingOnFailure: true }, 'orderingOnFailure'],
    ];
    for (const [fields, path] of bad) {
      for (const call of [
        () => registry.create('acme', { ...base, ...(fields as object) }),
        () => registry.update('acme', hook.id, fields as object),
        () => registry.replace('acme', hook.id, { ...base, ...(fields as object) }),
      ]) {
        const issues = await validationIssues(call);
        expect(
          issues.map((issue) => issue.path),
          JSON.stringify(fields),
        ).toEqual([[path]]);
      }
    }
    expect(await registry.get('acme', hook.id)).toMatchObject({
      ordering: 'none',
      orderingOnFailure: 'continue',
    });
  });
});

describe('notification orderingKey', () => {
  it('is a name: 1 to 200 characters, no control characters, a string or null', async () => {
    const { registry } = await twoWebhooks();
    const notification = { scope: 'acme', type: 'order.paid', data: {} };
    for (const orderingKey of [
      '',
      'k'.repeat(201),
      'a\u0001b',
      'tab\there',
      'nul\u0000',
      7,
      true,
      {},
      ['a'],
    ]) {
      const issues = await validationIssues(() =>
        registry.emit({ ...notification, orderingKey } as Parameters<typeof registry.emit>[0]),
      );
      expect(
        issues.map((issue) => issue.path),
        JSON.stringify(orderingKey),
      ).toEqual([['orderingKey']]);
      const many = await validationIssues(() =>
        registry.emitMany([notification, { ...notification, orderingKey }] as Parameters<
          typeof registry.emitMany
        >[0]),
      );
      expect(many.map((issue) => issue.path)).toEqual([[1, 'orderingKey']]);
    }
    // Nothing was stored by the refused emits.
    expect((await registry.searchDeliveries('acme')).items).toEqual([]);
    for (const orderingKey of ['k'.repeat(200), 'order 17', 'ünïcode', null, undefined]) {
      expect((await registry.emit({ ...notification, orderingKey })).deliveries).toBe(2);
    }
  });

  it('reaches the deliveries of FIFO webhooks only: ordered, with the key; unordered ones carry none', async () => {
    const { registry, fifo, free } = await twoWebhooks();
    const keyed = await registry.emit({
      scope: 'acme',
      type: 'order.paid',
      orderingKey: 'order-17',
      data: {},
    });
    const [a, b] = await Promise.all(keyed.deliveryIds.map((id) => registry.getDelivery('acme', id)));
    expect(a).toMatchObject({
      webhookId: fifo.id,
      ordered: true,
      orderingKey: 'order-17',
      pausesLine: false,
    });
    expect(b).toMatchObject({ webhookId: free.id, ordered: false, orderingKey: null, pausesLine: false });

    const unkeyed = await registry.emit({ scope: 'acme', type: 'order.paid', data: {} });
    const [c, d] = await Promise.all(unkeyed.deliveryIds.map((id) => registry.getDelivery('acme', id)));
    expect(c).toMatchObject({ webhookId: fifo.id, ordered: true, orderingKey: null });
    expect(d).toMatchObject({ webhookId: free.id, ordered: false, orderingKey: null });

    const [first, second] = await registry.emitMany([
      { scope: 'acme', type: 'order.paid', orderingKey: 'order-18', data: {} },
      { scope: 'acme', type: 'order.shipped', orderingKey: 'order-18', data: {} },
    ]);
    for (const result of [first, second]) {
      const [e, f] = await Promise.all(
        (result?.deliveryIds ?? []).map((id) => registry.getDelivery('acme', id)),
      );
      expect(e).toMatchObject({ webhookId: fifo.id, ordered: true, orderingKey: 'order-18' });
      expect(f).toMatchObject({ webhookId: free.id, ordered: false, orderingKey: null });
    }
  });

  it('a webhook switched to FIFO orders what is emitted after the switch', async () => {
    const { registry, free } = await twoWebhooks();
    const before = await registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: 'k', data: {} });
    await registry.update('acme', free.id, { ordering: 'fifo' });
    const after = await registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: 'k', data: {} });
    expect((await registry.getDelivery('acme', before.deliveryIds[1] ?? '')).ordered).toBe(false);
    expect(await registry.getDelivery('acme', after.deliveryIds[1] ?? '')).toMatchObject({
      webhookId: free.id,
      ordered: true,
      orderingKey: 'k',
    });
  });
});

describe('ping', () => {
  it('is never ordered: due at once, even behind a FIFO webhook’s pending deliveries', async () => {
    const { registry, clock, fifo } = await twoWebhooks();
    await registry.emit({ scope: 'acme', type: 'order.paid', data: {} });
    await registry.emit({ scope: 'acme', type: 'order.paid', data: {} });
    const ping = await registry.ping('acme', fifo.id);
    expect(ping).toMatchObject({
      type: 'hookline.ping',
      state: 'pending',
      ordered: false,
      orderingKey: null,
      nextAttemptAt: new Date(clock.now()),
    });
    expect(await registry.deliveryLine('acme', ping.id)).toBeNull();
  });
});

describe('registry.deliveryLine()', () => {
  it('tells where a pending ordered delivery waits; null for unordered, finished or missing ones', async () => {
    const { registry } = await twoWebhooks();
    const one = await registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: 'k1', data: {} });
    const two = await registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: 'k1', data: {} });
    const three = await registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: 'k1', data: {} });
    const other = await registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: 'k2', data: {} });
    const [head] = one.deliveryIds as [string];
    const [second] = two.deliveryIds as [string];
    const [third] = three.deliveryIds as [string];
    const [otherHead, unordered] = other.deliveryIds as [string, string];

    expect(await registry.deliveryLine('acme', head)).toEqual({ ahead: 0, blockedBy: null });
    const waiting = await registry.deliveryLine('acme', second);
    expect(waiting).toMatchObject({ ahead: 1, blockedBy: { id: head } });
    expect(await registry.deliveryLine('acme', third)).toMatchObject({ ahead: 2, blockedBy: { id: head } });
    expect(await registry.getDelivery('acme', third)).toMatchObject({
      state: 'pending',
      nextAttemptAt: null,
    });
    // Another key is another line.
    expect(await registry.deliveryLine('acme', otherHead)).toEqual({ ahead: 0, blockedBy: null });
    expect(await registry.deliveryLine('acme', unordered)).toBeNull();
    expect(await registry.deliveryLine('acme', 'msg_nope')).toBeNull();
    // Scoped: another scope does not see it.
    expect(await registry.deliveryLine('elsewhere', second)).toBeNull();
    // A canceled head leaves its line: the next one leads.
    await registry.cancel('acme', head);
    expect(await registry.deliveryLine('acme', head)).toBeNull();
    expect(await registry.deliveryLine('acme', second)).toEqual({ ahead: 0, blockedBy: null });
    expect(await registry.deliveryLine('acme', third)).toMatchObject({ ahead: 1, blockedBy: { id: second } });
  });

  it('names the failed delivery that pauses its line', async () => {
    const { registry } = setup();
    await registry.create('acme', {
      url: 'https://down.example/hook',
      eventTypes: ['order.*'],
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    const transport = captureTransport({ respond: () => 500 });
    const worker = registry.worker({ transport, autoDisable: false });
    const [first] = (await registry.emit({ scope: 'acme', type: 'order.paid', data: {} })).deliveryIds as [
      string,
    ];
    const [second] = (await registry.emit({ scope: 'acme', type: 'order.paid', data: {} })).deliveryIds as [
      string,
    ];
    await worker.drain();
    await worker.stop();
    expect(transport.requests).toHaveLength(1);
    expect(await registry.getDelivery('acme', first)).toMatchObject({ state: 'failed', pausesLine: true });
    expect(await registry.deliveryLine('acme', first)).toBeNull();
    expect(await registry.deliveryLine('acme', second)).toMatchObject({
      ahead: 1,
      blockedBy: { id: first, pausesLine: true },
    });
  });

  it('checks its arguments, and throws store_unsupported for a store without deliveryLine', async () => {
    const { registry } = setup();
    expect((await validationIssues(() => registry.deliveryLine('', 'msg_1'))).map((i) => i.path)).toEqual([
      ['scope'],
    ]);
    expect(
      (await validationIssues(() => registry.deliveryLine('acme', 'x'.repeat(201)))).map((i) => i.path),
    ).toEqual([['deliveryId']]);
    const { deliveryLine: _left, ...bare } = memoryStore();
    const without = setup(bare as Store).registry;
    const error = await without.deliveryLine('acme', 'msg_1').then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HooklineError);
    expect((error as HooklineError).code).toBe('store_unsupported');
    expect((error as HooklineError).message).toContain('deliveryLine()');
  });
});
