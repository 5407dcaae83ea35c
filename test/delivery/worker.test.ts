import { describe, expect, it } from 'vitest';
import {
  type Delivery,
  defineRetryPolicy,
  memoryStore,
  pretixCatalog,
  type RetryPolicy,
  retryPolicies,
  type Store,
  ValidationError,
  WebhookRegistry,
  type WebhookRegistryOptions,
  type WorkerOptions,
} from '../../src/index.js';
import {
  type CaptureResponse,
  captureTransport,
  createFakeClock,
  type FakeClock,
  waitForDelivery,
} from '../../src/testing/index.js';

const URL_A = 'https://a.example/hook';
const URL_B = 'https://b.example/hook';

function setup(
  options: {
    respond?: (req: { url: string }) => CaptureResponse | Promise<CaptureResponse>;
    retryPolicy?: RetryPolicy;
    worker?: WorkerOptions;
    registry?: WebhookRegistryOptions;
  } = {},
) {
  const clock = createFakeClock();
  const store = memoryStore();
  const registry = new WebhookRegistry({
    store,
    clock,
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    ...options.registry,
  });
  const transport = captureTransport(options.respond ? { respond: options.respond } : {});
  const worker = registry.worker({ transport, random: () => 0.5, pollIntervalMs: 1000, ...options.worker });
  return { clock, store, registry, transport, worker };
}

/** Runs the worker until nothing is due, then moves the fake clock to the next scheduled attempt. */
async function runSchedule(
  clock: FakeClock,
  registry: WebhookRegistry,
  worker: { drain(): Promise<void> },
  scope: string,
) {
  for (let i = 0; i < 100; i++) {
    await worker.drain();
    const summary = await registry.store.outboxSummary({ now: new Date(clock.now()) });
    if (summary.pending === 0 || !summary.nextAttemptAt) return;
    clock.set(summary.nextAttemptAt);
  }
  throw new Error(`schedule for ${scope} did not finish`);
}

describe('worker: retry schedules under a fake clock', () => {
  it.each([
    ['pretix', retryPolicies.pretix],
    ['taler', retryPolicies.taler],
    ['standard', retryPolicies.standard],
  ] as const)('follows the %s policy to the last attempt, then fails', async (_name, policy) => {
    const { clock, registry, transport, worker } = setup({
      respond: () => 500,
      retryPolicy: policy,
      worker: { autoDisable: false },
    });
    const hook = await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const start = clock.now();
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await runSchedule(clock, registry, worker, 'acme');
    await worker.stop();
    const attempts = await registry.attempts('acme', deliveryIds[0]!, { pageSize: 100 });
    expect(attempts.count).toBe(policy.delaysMs.length + 1);
    const offsets = attempts.items.map((a) => a.startedAt.getTime() - start).reverse();
    let expected = 0;
    const cumulative = [0, ...policy.delaysMs.map((gap) => (expected += gap))];
    expect(offsets).toEqual(cumulative);
    expect(transport.requests).toHaveLength(policy.delaysMs.length + 1);
    expect(await registry.getDelivery('acme', deliveryIds[0]!)).toMatchObject({
      state: 'failed',
      attemptCount: policy.delaysMs.length + 1,
      lastStatus: 500,
      lastError: 'HTTP 500',
    });
    expect((await registry.get('acme', hook.id)).enabled).toBe(true);
  });

  it('stops retrying on a permanent status of the policy (Taler 400)', async () => {
    const { clock, registry, worker } = setup({ respond: () => 400, retryPolicy: retryPolicies.taler });
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const failed: string[] = [];
    worker.on('delivery.failed', ({ reason }) => failed.push(reason));
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await runSchedule(clock, registry, worker, 'acme');
    await worker.stop();
    expect((await registry.attempts('acme', deliveryIds[0]!)).count).toBe(1);
    expect(failed).toEqual(['permanent']);
  });

  it('retries after a failure and succeeds, emitting lifecycle events', async () => {
    let calls = 0;
    const { clock, registry, worker } = setup({
      respond: () => (++calls <= 2 ? 503 : 200),
      retryPolicy: retryPolicies.pretix,
    });
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const events: string[] = [];
    worker.on('delivery.retrying', ({ nextAttemptAt }) =>
      events.push(`retrying@${nextAttemptAt.getTime() - clock.now()}`),
    );
    worker.on('delivery.succeeded', ({ delivery }) => events.push(`succeeded#${delivery.attemptCount}`));
    await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await runSchedule(clock, registry, worker, 'acme');
    await worker.stop();
    expect(events).toEqual(['retrying@5000', 'retrying@30000', 'succeeded#3']);
  });

  it('honours Retry-After on 429 within the policy bounds', async () => {
    let calls = 0;
    const { clock, registry, worker } = setup({
      respond: () => (++calls === 1 ? { status: 429, headers: { 'Retry-After': '120' } } : 200),
      retryPolicy: retryPolicies.pretix,
    });
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const start = clock.now();
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await runSchedule(clock, registry, worker, 'acme');
    await worker.stop();
    const attempts = await registry.attempts('acme', deliveryIds[0]!);
    expect(attempts.items.map((a) => a.startedAt.getTime() - start)).toEqual([120_000, 0]);
  });
});

describe('worker: webhook lifecycle', () => {
  it('disables a webhook on 410 and cancels its other pending deliveries', async () => {
    const { registry, transport, worker } = setup({ respond: () => 410 });
    const hook = await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const disabled: unknown[] = [];
    worker.on('webhook.disabled', (e) => disabled.push(e));
    const first = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await worker.drain();
    const second = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await worker.drain();
    await worker.stop();
    expect(await registry.get('acme', hook.id)).toMatchObject({ enabled: false, disabledReason: 'gone' });
    expect(disabled).toEqual([{ scope: 'acme', webhookId: hook.id, reason: 'gone' }]);
    expect(await registry.getDelivery('acme', first.deliveryIds[0]!)).toMatchObject({
      state: 'failed',
      lastStatus: 410,
    });
    expect(second.deliveries).toBe(0);
    expect(transport.requests).toHaveLength(1);
  });

  it('cancels, without sending, deliveries whose webhook was disabled or removed before their turn', async () => {
    const { registry, transport, worker } = setup();
    const a = await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const b = await registry.create('acme', { url: URL_B, eventTypes: ['pay'] });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await registry.disable('acme', a.id);
    await registry.remove('acme', b.id);
    const canceled: string[] = [];
    worker.on('delivery.canceled', ({ reason }) => canceled.push(reason));
    await worker.drain();
    await worker.stop();
    expect(transport.requests).toHaveLength(0);
    expect(canceled).toEqual(['webhook disabled']);
    expect((await registry.getDelivery('acme', deliveryIds[0]!)).state).toBe('canceled');
    expect(await registry.getDelivery('acme', deliveryIds[1]!)).toMatchObject({
      state: 'canceled',
      lastError: 'webhook removed',
    });
  });

  it('auto-disables after N consecutive failed deliveries', async () => {
    const once = defineRetryPolicy({ name: 'once', delaysMs: [] });
    const { registry, worker } = setup({
      respond: () => 500,
      retryPolicy: once,
      worker: { autoDisable: { afterConsecutiveFailures: 3, afterFailingForMs: Number.POSITIVE_INFINITY } },
    });
    const hook = await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    for (let i = 0; i < 2; i++) {
      await registry.emit({ scope: 'acme', type: 'pay', data: {} });
      await worker.drain();
    }
    expect((await registry.get('acme', hook.id)).enabled).toBe(true);
    expect((await registry.get('acme', hook.id)).consecutiveFailures).toBe(2);
    await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await worker.drain();
    await worker.stop();
    expect(await registry.get('acme', hook.id)).toMatchObject({ enabled: false, disabledReason: 'failing' });
  });

  it('auto-disables when every attempt has failed for the configured time, and a success resets it', async () => {
    let fail = true;
    const { clock, registry, worker } = setup({
      respond: () => (fail ? 500 : 200),
      retryPolicy: retryPolicies.pretix,
      worker: {
        autoDisable: { afterConsecutiveFailures: Number.POSITIVE_INFINITY, afterFailingForMs: 60_000 },
      },
    });
    const hook = await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await worker.drain(); // t=0 fails
    clock.advance(5_000);
    await worker.drain(); // t=5s fails
    expect((await registry.get('acme', hook.id)).failingSince?.getTime()).toBe(clock.now() - 5_000);
    fail = false;
    clock.advance(30_000);
    await worker.drain(); // t=35s succeeds
    expect((await registry.get('acme', hook.id)).failingSince).toBeNull();
    fail = true;
    await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await runSchedule(clock, registry, worker, 'acme');
    await worker.stop();
    const after = await registry.get('acme', hook.id);
    expect(after).toMatchObject({ enabled: false, disabledReason: 'failing' });
  });
});

describe('worker: leases, redelivery, stopping', () => {
  it('delivers what a crashed worker had claimed once its lease expires', async () => {
    const { clock, registry, store, transport, worker } = setup({
      worker: { leaseMs: 60_000, timeoutMs: 10_000 },
    });
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    const crashed = await store.claimDue({ limit: 10, leaseMs: 60_000, now: new Date(clock.now()) });
    expect(crashed).toHaveLength(1);
    await worker.drain();
    expect(transport.requests).toHaveLength(0);
    clock.advance(60_001);
    await worker.drain();
    await worker.stop();
    expect(transport.requests).toHaveLength(1);
    expect((await registry.getDelivery('acme', deliveryIds[0]!)).state).toBe('succeeded');
  });

  it('redelivers a finished delivery with the same webhook-id', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const { registry, transport, worker } = setup();
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'], secrets: [secret] });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: { n: 1 } });
    await worker.drain();
    const again = await registry.redeliver('acme', deliveryIds[0]!);
    expect(again).toMatchObject({ state: 'pending', attemptCount: 0 });
    await worker.drain();
    await worker.stop();
    expect(transport.requests).toHaveLength(2);
    expect(transport.requests[0]!.headers['webhook-id']).toBe(deliveryIds[0]);
    expect(transport.requests[1]!.headers['webhook-id']).toBe(deliveryIds[0]);
    expect(transport.requests[1]!.body).toBe(transport.requests[0]!.body);
    const attempts = await registry.attempts('acme', deliveryIds[0]!);
    expect(attempts.items.map((a) => a.retry)).toEqual([true, false]);
  });

  it('waits for in-flight attempts on a graceful stop, and is safe to call twice', async () => {
    let release: (() => void) | undefined;
    let arrived: (() => void) | undefined;
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { registry, worker } = setup({
      respond: () =>
        new Promise<number>((resolve) => {
          release = () => resolve(200);
          arrived?.();
        }),
    });
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    worker.start();
    await arrival;
    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    expect(worker.stop()).toBe(worker.stop());
    await Promise.resolve();
    expect(stopped).toBe(false);
    release?.();
    await stopping;
    expect((await registry.getDelivery('acme', deliveryIds[0]!)).state).toBe('succeeded');
  });

  it('gives back what it cannot finish within the stop timeout', async () => {
    let arrived: (() => void) | undefined;
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { clock, registry, store, worker } = setup({
      respond: () =>
        new Promise<number>(() => {
          arrived?.();
        }),
    });
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    worker.start();
    await arrival;
    await worker.stop({ timeoutMs: 20 });
    const claimable = await store.claimDue({ limit: 10, leaseMs: 1000, now: new Date(clock.now()) });
    expect(claimable).toHaveLength(1);
    expect(() => worker.start()).toThrow(/stopped/);
  });

  it('gives back, unsent, what a claim in progress returns after stop() was called', async () => {
    const { clock, registry, store, transport } = setup();
    let openGate: (() => void) | undefined;
    let claiming: (() => void) | undefined;
    const claimStarted = new Promise<void>((resolve) => {
      claiming = resolve;
    });
    const gated: Store = {
      ...store,
      async claimDue(input) {
        claiming?.();
        await new Promise<void>((resolve) => {
          openGate = resolve;
        });
        return store.claimDue(input);
      },
    };
    const gatedRegistry = new WebhookRegistry({ store: gated, clock });
    const worker = gatedRegistry.worker({ transport });
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    worker.start();
    await claimStarted;
    const stopping = worker.stop();
    openGate?.();
    await stopping;
    expect(transport.requests).toHaveLength(0);
    expect((await registry.getDelivery('acme', deliveryIds[0]!)).state).toBe('pending');
    expect(await store.claimDue({ limit: 5, leaseMs: 1000, now: new Date(clock.now()) })).toHaveLength(1);
  });

  it('keeps one slow receiver from starving the others (per-webhook concurrency)', async () => {
    const releases: (() => void)[] = [];
    const { registry, transport, worker } = setup({
      respond: (req) =>
        req.url === URL_A ? new Promise<number>((resolve) => releases.push(() => resolve(200))) : 200,
      worker: { concurrency: 8, perWebhookConcurrency: 3 },
    });
    const slow = await registry.create('acme', { url: URL_A, eventTypes: ['slow'] });
    await registry.create('acme', { url: URL_B, eventTypes: ['fast'] });
    for (let i = 0; i < 20; i++) await registry.emit({ scope: 'acme', type: 'slow', data: { i } });
    const fast: string[] = [];
    for (let i = 0; i < 5; i++)
      fast.push(...(await registry.emit({ scope: 'acme', type: 'fast', data: { i } })).deliveryIds);
    worker.start();
    const done = await Promise.all(
      fast.map((deliveryId) => waitForDelivery({ registry, worker, scope: 'acme', deliveryId })),
    );
    expect(done.map((d: Delivery) => d.state)).toEqual(Array(5).fill('succeeded'));
    expect(transport.requests.filter((r) => r.url === URL_A).length).toBeLessThanOrEqual(3);
    expect(
      (await registry.deliveries('acme', slow.id, { pageSize: 100 })).items.filter(
        (d) => d.state === 'succeeded',
      ),
    ).toHaveLength(0);
    for (const r of releases) r();
    await worker.stop({ graceful: false });
  });
});

describe('emit', () => {
  it('is idempotent per notification id within a scope', async () => {
    const { registry } = setup();
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const first = await registry.emit({ id: 'order-1-paid', scope: 'acme', type: 'pay', data: {} });
    const second = await registry.emit({
      id: 'order-1-paid',
      scope: 'acme',
      type: 'pay',
      data: { other: true },
    });
    expect(first).toMatchObject({ notificationId: 'order-1-paid', deliveries: 1, created: true });
    expect(second).toEqual({ ...first, created: false });
    const hooks = await registry.list('acme');
    expect((await registry.deliveries('acme', hooks.items[0]!.id)).count).toBe(1);
  });

  it('stores the request rendered at emit time, so later template edits do not change it', async () => {
    const { registry, transport, worker } = setup();
    const hook = await registry.create('acme', {
      url: URL_A,
      eventTypes: ['pay'],
      bodyTemplate: 'v1 {{order_id}}',
    });
    await registry.emit({ scope: 'acme', type: 'pay', data: { order_id: 'A-1' } });
    await registry.update('acme', hook.id, { bodyTemplate: 'v2 {{order_id}}' });
    await worker.drain();
    await worker.stop();
    expect(transport.requests[0]!.body).toBe('v1 A-1');
  });

  it('stores a delivery whose headers cannot be rendered as failed, and sends the others', async () => {
    const { registry, transport, worker } = setup();
    const bad = await registry.create('acme', {
      url: URL_A,
      eventTypes: ['pay'],
      headerTemplate: 'X-Reason: {{reason}}',
    });
    await registry.create('acme', { url: URL_B, eventTypes: ['pay'] });
    const { deliveryIds } = await registry.emit({
      scope: 'acme',
      type: 'pay',
      data: { reason: 'a\r\nX-Evil: 1' },
    });
    await worker.drain();
    await worker.stop();
    expect(transport.requests.map((r) => r.url)).toEqual([URL_B]);
    const failed = await registry.getDelivery('acme', deliveryIds[0]!);
    expect(failed).toMatchObject({ webhookId: bad.id, state: 'failed' });
    expect(failed.lastError).toMatch(/^template_render_failed/);
  });

  it.each<[string, unknown]>([
    ['a function', { f: () => 1 }],
    ['a BigInt', { n: 10n }],
    ['a symbol', { s: Symbol('x') }],
    ['NaN', { n: Number.NaN }],
    ['a class instance', { m: new Map() }],
  ])('rejects data with %s', async (_name, data) => {
    const { registry } = setup();
    await expect(
      registry.emit({ scope: 'acme', type: 'pay', data: data as Record<string, unknown> }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('names the path of each value that is not JSON', async () => {
    const { registry } = setup();
    const data = { order: { items: [1, () => 2], total: Number.POSITIVE_INFINITY }, ok: 'yes' };
    await expect(registry.emit({ scope: 'acme', type: 'pay', data })).rejects.toMatchObject({
      issues: [
        {
          path: ['data', 'order', 'items', 1],
          code: 'not_json',
          message: 'A function cannot be sent as JSON.',
        },
        { path: ['data', 'order', 'total'], code: 'not_json', message: 'Numbers must be finite.' },
      ],
    });
  });

  it('rejects cycles, oversized data, and blank scope or type', async () => {
    const { registry } = setup({ registry: { maxNotificationBytes: 100 } });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(registry.emit({ scope: 'acme', type: 'pay', data: cyclic })).rejects.toMatchObject({
      issues: [{ path: ['data', 'self'], code: 'not_json', message: 'The data contains a cycle.' }],
    });
    await expect(
      registry.emit({ scope: 'acme', type: 'pay', data: { s: 'x'.repeat(200) } }),
    ).rejects.toMatchObject({
      issues: [{ code: 'too_large' }],
    });
    await expect(registry.emit({ scope: '', type: 'pay', data: {} })).rejects.toBeInstanceOf(ValidationError);
    await expect(registry.emit({ scope: 'acme', type: '', data: {} })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('converts Dates in data to JSON strings', async () => {
    const { registry, transport, worker } = setup({
      registry: { catalog: pretixCatalog, payloadStyle: 'pretix' },
    });
    await registry.create('acme', { url: URL_A, eventTypes: ['pretix.event.order.paid'] });
    await registry.emit({
      id: 'n-1',
      scope: 'acme',
      type: 'pretix.event.order.paid',
      event: 'democon',
      data: { at: new Date('2026-01-02T03:04:05.000Z') },
    });
    await worker.drain();
    await worker.stop();
    expect(JSON.parse(transport.requests[0]!.body)).toEqual({
      notification_id: 'n-1',
      organizer: 'acme',
      event: 'democon',
      action: 'pretix.event.order.paid',
      at: '2026-01-02T03:04:05.000Z',
    });
  });

  it('queues a ping to one webhook whatever its event types', async () => {
    const { registry, transport, worker } = setup();
    const hook = await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const ping = await registry.ping('acme', hook.id);
    expect(ping).toMatchObject({ type: 'hookline.ping', state: 'pending', webhookId: hook.id });
    await worker.drain();
    await worker.stop();
    expect(JSON.parse(transport.requests[0]!.body)).toMatchObject({
      type: 'hookline.ping',
      data: { ping: true },
    });
  });

  it('writes the attempts of several workers of one store in one recordAttempts call', async () => {
    const memory = memoryStore();
    const batches: number[] = [];
    const store: Store = {
      ...memory,
      recordAttempts: (input) => {
        batches.push(input.items.length);
        return memory.recordAttempts(input);
      },
    };
    const clock = createFakeClock();
    const registry = new WebhookRegistry({ store, clock });
    // Every request is answered at once when the fourth arrives, so all four attempts finish in
    // the same turn, two in each worker.
    let release: () => void = () => undefined;
    const allSent = new Promise<void>((resolve) => {
      release = resolve;
    });
    let sent = 0;
    const transport = captureTransport({
      respond: async () => {
        if (++sent === 4) release();
        await allSent;
        return 200;
      },
    });
    const hook = await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    for (let i = 0; i < 4; i++) await registry.emit({ scope: 'acme', type: 'pay', data: { i } });
    const workers = [1, 2].map(() => registry.worker({ transport, concurrency: 2, pollIntervalMs: 1000 }));
    for (const w of workers) w.start();
    await allSent;
    await Promise.all(workers.map((w) => w.drain()));
    await Promise.all(workers.map((w) => w.stop()));
    expect(sent).toBe(4);
    expect(batches).toEqual([4]);
    const { items } = await registry.deliveries('acme', hook.id);
    expect(items.map((d) => d.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  });

  it("lets finished attempts wait the store's recordDelayMs for others, and stop() write them at once", async () => {
    const memory = memoryStore();
    const batches: number[] = [];
    const store: Store = {
      ...memory,
      recordDelayMs: 3_600_000,
      recordAttempts: (input) => {
        batches.push(input.items.length);
        return memory.recordAttempts(input);
      },
    };
    const registry = new WebhookRegistry({ store, clock: createFakeClock() });
    // The second answer comes some turns after the first: without the delay, two calls.
    let sent = 0;
    let bothSent: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      bothSent = resolve;
    });
    const transport = captureTransport({
      respond: async () => {
        const n = ++sent;
        if (n === 2) {
          for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
          bothSent();
        }
        return 200;
      },
    });
    const hook = await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    for (let i = 0; i < 2; i++) await registry.emit({ scope: 'acme', type: 'pay', data: { i } });
    const worker = registry.worker({ transport, concurrency: 2, pollIntervalMs: 1000 });
    worker.start();
    await answered;
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([]);
    await worker.stop();
    expect(batches).toEqual([2]);
    const { items } = await registry.deliveries('acme', hook.id);
    expect(items.map((d) => d.state)).toEqual(['succeeded', 'succeeded']);
  });

  it('stop() does not wait out recordDelayMs for an attempt that finishes while it stops', async () => {
    const memory = memoryStore();
    const store: Store = { ...memory, recordDelayMs: 3_600_000 };
    const registry = new WebhookRegistry({ store, clock: createFakeClock() });
    let answer: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      answer = resolve;
    });
    let arrived: () => void = () => undefined;
    const sent = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const transport = captureTransport({
      respond: async () => {
        arrived();
        await held;
        return 200;
      },
    });
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    const worker = registry.worker({ transport, pollIntervalMs: 1000 });
    worker.start();
    await sent;
    const stopping = worker.stop(); // graceful: waits for the attempt, which then records at once
    // Answered once stop() waits for the attempt (past writing what waited: nothing did).
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    answer();
    await stopping;
    expect((await registry.getDelivery('acme', deliveryIds[0]!)).state).toBe('succeeded');
  });

  it('a stop that is not graceful writes the attempts waiting out recordDelayMs before it returns', async () => {
    const memory = memoryStore();
    const store: Store = {
      ...memory,
      recordDelayMs: 3_600_000,
      // A record takes a few turns, as on a database: a claim given back meanwhile would win.
      recordAttempts: async (input) => {
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        return memory.recordAttempts(input);
      },
    };
    const registry = new WebhookRegistry({ store, clock: createFakeClock() });
    let recorded: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => {
      recorded = resolve;
    });
    const transport = captureTransport({
      respond: () => {
        // Answered: the attempt goes to the record batcher (and waits there) in a few turns.
        setImmediate(() => setImmediate(recorded));
        return 200;
      },
    });
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    const worker = registry.worker({ transport, pollIntervalMs: 1000 });
    worker.start();
    await waiting;
    await worker.stop({ graceful: false });
    const delivery = await registry.getDelivery('acme', deliveryIds[0]!);
    expect(delivery).toMatchObject({ state: 'succeeded', attemptCount: 1 });
  });

  it("records an ordered delivery's attempt without waiting out recordDelayMs", async () => {
    const memory = memoryStore();
    const store: Store = { ...memory, recordDelayMs: 3_600_000 };
    const registry = new WebhookRegistry({ store, clock: createFakeClock() });
    const transport = captureTransport();
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'], ordering: 'fifo' });
    const emitted = [];
    for (let i = 0; i < 3; i++)
      emitted.push(await registry.emit({ scope: 'acme', type: 'pay', data: { i } }));
    const worker = registry.worker({ transport, pollIntervalMs: 1000 });
    worker.start();
    // Each delivery of the line becomes due only when the one before it is recorded.
    const last = await waitForDelivery({
      registry,
      worker,
      scope: 'acme',
      deliveryId: emitted[2]!.deliveryIds[0]!,
    });
    expect(last.state).toBe('succeeded');
    expect(transport.requests).toHaveLength(3);
    await worker.stop();
  });

  it('merges the claims of several workers of one store into one claimDue call', async () => {
    const memory = memoryStore();
    const claims: number[] = [];
    const store: Store = {
      ...memory,
      claimDue: async (input) => {
        const claimed = await memory.claimDue(input);
        claims.push(claimed.length);
        return claimed;
      },
    };
    const clock = createFakeClock();
    const registry = new WebhookRegistry({ store, clock });
    const hook = await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    for (let i = 0; i < 6; i++) await registry.emit({ scope: 'acme', type: 'pay', data: { i } });
    const transport = captureTransport();
    const workers = [1, 2, 3].map(() => registry.worker({ transport, concurrency: 2, pollIntervalMs: 1000 }));
    // Started in the same turn: their first claims go out together.
    for (const w of workers) w.start();
    await Promise.all(workers.map((w) => w.drain()));
    await Promise.all(workers.map((w) => w.stop()));
    expect(claims[0]).toBe(6);
    expect(transport.requests).toHaveLength(6);
    const { items } = await registry.deliveries('acme', hook.id);
    expect(items.every((d) => d.state === 'succeeded')).toBe(true);
    expect(new Set(transport.requests.map((r) => r.headers['webhook-id'])).size).toBe(6);
  });

  it('does not merge the claims of workers on different clocks', async () => {
    const memory = memoryStore();
    const limits: number[] = [];
    const store: Store = {
      ...memory,
      claimDue: (input) => {
        limits.push(input.limit);
        return memory.claimDue(input);
      },
    };
    const registries = [createFakeClock(), createFakeClock()].map(
      (clock) => new WebhookRegistry({ store, clock }),
    );
    const transport = captureTransport();
    const workers = registries.map((r) => r.worker({ transport, concurrency: 3, pollIntervalMs: 1000 }));
    for (const w of workers) w.start();
    await Promise.all(workers.map((w) => w.drain()));
    await Promise.all(workers.map((w) => w.stop()));
    expect(limits.slice(0, 2)).toEqual([3, 3]);
  });
});

describe('worker: idle while everything due is in flight elsewhere', () => {
  it('polls at pollIntervalMs, not every millisecond, while the only due delivery is leased by another worker', async () => {
    const { clock, store, registry, worker } = setup();
    const hook = await registry.create('acme', { url: URL_A, eventTypes: ['*'] });
    await registry.emit({ scope: 'acme', type: 'order.paid', data: {} });
    // Another process holds it (a long request, or an ordered line's head in flight).
    const [held] = await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(clock.now()) });
    expect(held?.webhookId).toBe(hook.id);
    let claims = 0;
    const claimDue = store.claimDue.bind(store);
    store.claimDue = (input) => {
      claims += 1;
      return claimDue(input);
    };
    worker.start();
    const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
    for (let i = 0; i < 20; i++) await flush();
    const before = claims;
    for (let ms = 0; ms < 200; ms++) {
      clock.advance(1);
      for (let i = 0; i < 3; i++) await flush();
    }
    // 200 ms of a 1 000 ms poll interval: at most one more claim (polling every millisecond made about 200).
    expect(claims - before).toBeLessThanOrEqual(1);
    await worker.stop();
  });
});

describe('worker: claims when something may be due, not after every finished delivery', () => {
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('claims once per emit in a trickle of emits (a live watch wakes it), not again after each delivery, and reads the summary once per poll interval', async () => {
    // The receiver answers a few turns later, as a real one does: after the claim's tick ended.
    const { clock, store, registry, worker } = setup({
      respond: async () => {
        for (let i = 0; i < 5; i++) await flush();
        return 200;
      },
    });
    await registry.create('acme', { url: URL_A, eventTypes: ['*'] });
    let claims = 0;
    let summaries = 0;
    const claimDue = store.claimDue.bind(store);
    const outboxSummary = store.outboxSummary.bind(store);
    store.claimDue = (input) => {
      claims += 1;
      return claimDue(input);
    };
    store.outboxSummary = (input) => {
      summaries += 1;
      return outboxSummary(input);
    };
    worker.start();
    for (let i = 0; i < 3; i++) await flush();
    const before = { claims, summaries };
    for (let i = 0; i < 20; i++) {
      const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'order.paid', data: { i } });
      const delivery = await waitForDelivery({
        registry,
        worker,
        scope: 'acme',
        deliveryId: deliveryIds[0]!,
      });
      expect(delivery.state).toBe('succeeded');
    }
    for (let i = 0; i < 3; i++) await flush();
    // One claim per emit; a claim after each finished delivery made 40. No summary within the
    // poll interval of the last (one after each claim made 40 as well).
    expect(claims - before.claims).toBe(20);
    expect(summaries - before.summaries).toBe(0);
    expect(clock.now()).toBe(createFakeClock().now()); // no poll was needed
    // The poll reads the summary again: retries other processes recorded are found there.
    clock.advance(1000);
    for (let i = 0; i < 5; i++) await flush();
    expect(summaries - before.summaries).toBe(1);
    expect(claims - before.claims).toBe(21);
    await worker.stop();
  });

  it('finds at its next summary a retry another process recorded after the last, and attempts it on time', async () => {
    const { clock, store, registry, transport, worker } = setup(); // pollIntervalMs 1000
    await registry.create('acme', { url: URL_A, eventTypes: ['*'] });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'order.paid', data: {} });
    // Another process has claimed it before this worker starts, and records a failure later.
    const [claim] = await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(clock.now()) });
    if (!claim) throw new Error('nothing claimed');
    worker.start();
    for (let i = 0; i < 5; i++) await flush(); // its claim (nothing: leased) and summary
    const now = new Date(clock.now());
    const retryAt = clock.now() + 2500; // between two polls
    await store.recordAttempts({
      items: [
        {
          deliveryId: claim.id,
          leaseToken: claim.leaseToken,
          attempt: {
            startedAt: now,
            durationMs: 5,
            status: 503,
            ok: false,
            error: null,
            responseBody: '',
            responseHeaders: {},
          },
          outcome: { state: 'pending', nextAttemptAt: new Date(retryAt) },
          now,
        },
      ],
    }); // a record of a retry wakes nobody
    while (clock.now() < retryAt - 10) {
      clock.advance(10);
      for (let i = 0; i < 3; i++) await flush();
    }
    expect(transport.requests).toHaveLength(0);
    clock.advance(10);
    for (let i = 0; i < 5; i++) await flush();
    // At its time, not at the poll after it (3 000).
    expect(transport.requests).toHaveLength(1);
    const delivery = await waitForDelivery({ registry, worker, scope: 'acme', deliveryId: deliveryIds[0]! });
    expect(delivery.state).toBe('succeeded');
    await worker.stop();
  });

  it('attempts a retry it recorded itself when it falls due, without a claim or poll in between', async () => {
    let calls = 0;
    const { clock, registry, worker } = setup({
      respond: () => (++calls === 1 ? 503 : 200),
      retryPolicy: retryPolicies.pretix,
      worker: { pollIntervalMs: 3_600_000 },
    });
    await registry.create('acme', { url: URL_A, eventTypes: ['pay'] });
    const retrying = new Promise<Date>((resolve) =>
      worker.on('delivery.retrying', (e) => resolve(e.nextAttemptAt)),
    );
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    worker.start();
    const nextAttemptAt = await retrying;
    for (let i = 0; i < 5; i++) await flush();
    clock.set(new Date(nextAttemptAt.getTime() - 1));
    for (let i = 0; i < 5; i++) await flush();
    expect(calls).toBe(1);
    clock.set(nextAttemptAt);
    const delivery = await waitForDelivery({ registry, worker, scope: 'acme', deliveryId: deliveryIds[0]! });
    expect(delivery.state).toBe('succeeded');
    expect(calls).toBe(2);
    await worker.stop();
  });
});
