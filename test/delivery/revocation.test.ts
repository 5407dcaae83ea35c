import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HooklineError,
  memoryStore,
  type Store,
  type StoreSignal,
  WebhookRegistry,
  type WorkerOptions,
} from '../../src/index.js';
import { createFakeClock } from '../../src/testing/index.js';
import { emitThree, ONE_SENT, states, whileFirstInFlight } from './first-in-flight.js';
import { holdRequests, type Receiver, startReceiver } from './receiver.js';

// Once a webhook is disabled or removed, no request of it starts later; what the worker had
// claimed ahead and parked is canceled, not sent; a canceled delivery never gains an attempt.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  receiver.route('/gone', (_req, res) => {
    res.writeHead(410);
    res.end('gone');
  });
});
afterAll(() => receiver.close());

function setup(options: { store?: Store; workerStore?: Store; worker?: WorkerOptions } = {}) {
  /** Requests to /hold wait until the test answers them. */
  const hold = holdRequests(receiver, '/hold');
  const clock = createFakeClock({ now: Date.now() });
  const store = options.store ?? memoryStore();
  const registry = new WebhookRegistry({ store, clock });
  const workerRegistry =
    options.workerStore === undefined ? registry : new WebhookRegistry({ store: options.workerStore, clock });
  const worker = workerRegistry.worker({
    ssrf: { allow: ['127.0.0.1'] },
    timeoutMs: 5_000,
    concurrency: 1,
    perWebhookConcurrency: 1,
    ...options.worker,
  });
  const canceled: { id: string; reason: string }[] = [];
  worker.on('delivery.canceled', ({ delivery, reason }) => canceled.push({ id: delivery.id, reason }));
  return { clock, store, registry, worker, canceled, hold };
}

describe('claimed work does not outlive a disable', () => {
  it('410 on the first of three queued deliveries: the parked and queued ones are canceled, never sent', async () => {
    const { registry, worker, canceled } = setup();
    await registry.create('acme', { url: receiver.url('/gone'), eventTypes: ['pay'] });
    const before = receiver.hits('/gone');
    const ids = await emitThree(registry);
    await worker.drain();
    await worker.stop();
    expect(receiver.hits('/gone') - before).toBe(1);
    expect(await states(registry, ids)).toEqual([
      ['failed', 1],
      ['canceled', 0],
      ['canceled', 0],
    ]);
    // The second was claimed ahead and parked in the worker: the worker canceled it.
    expect(canceled.map((c) => c.id)).toContain(ids[1]);
  });

  it.each([
    ['disable()', (r: WebhookRegistry, id: number) => r.disable('acme', id), 'webhook disabled'],
    [
      'update({ enabled: false })',
      (r: WebhookRegistry, id: number) => r.update('acme', id, { enabled: false }),
      'webhook disabled',
    ],
    ['remove()', (r: WebhookRegistry, id: number) => r.remove('acme', id), 'webhook removed'],
  ] as const)(
    '%s while deliveries are claimed: the one in flight is recorded, the parked one is canceled',
    async (_name, change, reason) => {
      const ctx = setup();
      const { ids, states, sent } = await whileFirstInFlight(ctx, (id) => change(ctx.registry, id));
      expect(sent).toBe(1);
      expect(states).toEqual(ONE_SENT);
      expect(ctx.canceled).toContainEqual({ id: ids[1], reason });
    },
  );

  it('cancels claims parked behind a busy webhook slot too, and what was given back for later', async () => {
    const ctx = setup({ worker: { concurrency: 4, perWebhookConcurrency: 1 } });
    const { states, sent } = await whileFirstInFlight(
      ctx,
      (id) => ctx.registry.disable('acme', id),
      async () => {
        ctx.clock.advance(60_000); // the delivery given back "for a little later" comes due
        await ctx.worker.drain();
      },
    );
    expect(sent).toBe(1);
    expect(states).toEqual(ONE_SENT);
  });

  it.each([
    ['disabled', (r: WebhookRegistry, id: number) => r.disable('acme', id), 'webhook disabled'],
    ['removed', (r: WebhookRegistry, id: number) => r.remove('acme', id), 'webhook removed'],
  ] as const)(
    'a claim call in flight when the webhook is %s drops what it returns',
    async (_name, change, reason) => {
      const inner = memoryStore();
      let claimCalls = 0;
      let secondClaim: () => void = () => undefined;
      const secondClaimed = new Promise<void>((resolve) => {
        secondClaim = resolve;
      });
      let openGate: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        openGate = resolve;
      });
      const store: Store = {
        ...inner,
        async claimDue(input) {
          claimCalls += 1;
          const claims = await inner.claimDue(input);
          if (claimCalls === 2) {
            secondClaim();
            await gate; // the snapshot in these claims says "enabled"
          }
          return claims;
        },
      };
      const ctx = setup({ store });
      const { ids, states, sent } = await whileFirstInFlight(ctx, async (id) => {
        await secondClaimed;
        await change(ctx.registry, id);
        openGate();
      });
      expect(sent).toBe(1);
      expect(states).toEqual(ONE_SENT);
      expect(ctx.canceled).toContainEqual({ id: ids[1], reason });
    },
  );
});

describe('when the worker cannot hear of webhook changes', () => {
  /** The same store without `watch`, as a worker in another process sees it (no wake-ups, no signals). */
  function blind(store: Store, reads: { count: number }): Store {
    const copy: Store = {
      ...store,
      async getWebhook(input) {
        reads.count += 1;
        return store.getWebhook(input);
      },
    };
    delete copy.watch;
    return copy;
  }

  it('a store without watch: parked claims are checked again just before sending, fresh ones are not', async () => {
    const store = memoryStore();
    const reads = { count: 0 };
    const ctx = setup({ store, workerStore: blind(store, reads) });
    const { ids, states, sent } = await whileFirstInFlight(ctx, async (id) => {
      expect(reads.count).toBe(0); // the first one started straight from its claim
      await ctx.registry.disable('acme', id); // the worker is not told
    });
    expect(sent).toBe(1);
    expect(states).toEqual(ONE_SENT);
    expect(reads.count).toBe(1); // only the parked one was read again
    expect(ctx.canceled).toContainEqual({ id: ids[1], reason: 'webhook disabled' });
  });

  it('a lost watch: what was parked is checked again, and the loss is reported', async () => {
    const inner = memoryStore();
    let tell: (signal: StoreSignal) => void = () => undefined;
    const reads = { count: 0 };
    // The worker hears only what the test tells it.
    const store: Store = {
      ...blind(inner, reads),
      async watch(listener) {
        tell = listener;
        return async () => undefined;
      },
    };
    const ctx = setup({ store: inner, workerStore: store });
    const errors: { code: string; during: string }[] = [];
    ctx.worker.on('error', ({ error, during }) => errors.push({ code: error.code, during }));
    const { states, sent } = await whileFirstInFlight(ctx, async (id) => {
      tell({ type: 'lost', error: new HooklineError('store_failed', 'LISTEN connection lost') });
      expect(errors).toEqual([{ code: 'store_failed', during: 'watch' }]);
      await ctx.registry.disable('acme', id);
    });
    expect(sent).toBe(1);
    expect(states).toEqual(ONE_SENT);
    expect(reads.count).toBe(1);
  });

  it('a live watch is trusted: parked claims are not read again', async () => {
    const inner = memoryStore();
    const reads = { count: 0 };
    const store: Store = { ...blind(inner, reads), watch: inner.watch! };
    const { registry, worker, hold } = setup({ store: inner, workerStore: store });
    await registry.create('acme', { url: hold.url, eventTypes: ['pay'] });
    const before = hold.hits();
    await emitThree(registry);
    worker.start();
    for (let n = 1; n <= 3; n++) {
      await hold.until(1);
      hold.answer(200);
    }
    await worker.drain();
    await worker.stop();
    expect(hold.hits() - before).toBe(3);
    expect(reads.count).toBe(0);
  });
});

describe('setting up the watch', () => {
  it('retries a watch that fails at start with backoff, reporting each failure, until it is up', async () => {
    const inner = memoryStore();
    let failures = 2;
    let attempts = 0;
    let watching = 0;
    let watchUp: () => void = () => undefined;
    const up = new Promise<void>((resolve) => {
      watchUp = resolve;
    });
    const store: Store = {
      ...inner,
      async watch(listener) {
        attempts += 1;
        if (failures > 0) {
          failures -= 1;
          throw new HooklineError('store_failed', 'database is down');
        }
        watching += 1;
        const unwatch = await inner.watch!(listener);
        watchUp();
        return unwatch;
      },
    };
    const clock = createFakeClock();
    const registry = new WebhookRegistry({ store, clock });
    const worker = registry.worker({ pollIntervalMs: 60_000 });
    const errors: string[] = [];
    worker.on('error', ({ during }) => errors.push(during));
    /** The worker's next 'error' event. */
    const nextError = () =>
      new Promise<void>((resolve) => {
        const off = worker.on('error', () => {
          off();
          resolve();
        });
      });

    let failed = nextError();
    worker.start();
    await failed;
    expect(errors).toEqual(['watch']);
    // The first retry comes 100 ms later, not before (the fake clock fires timers as it moves).
    failed = nextError();
    clock.advance(99);
    expect(attempts).toBe(1);
    clock.advance(1);
    expect(attempts).toBe(2);
    await failed;
    expect(errors).toEqual(['watch', 'watch']);
    expect(watching).toBe(0);
    // The second one 200 ms after that, and it is up.
    clock.advance(199);
    expect(attempts).toBe(2);
    clock.advance(1);
    expect(attempts).toBe(3);
    await up;
    expect(watching).toBe(1);
    expect(errors).toHaveLength(2);
    await worker.stop();
  });
});

describe('claims given back', () => {
  it('are not kept by a worker that cannot hear of webhook changes', async () => {
    receiver.route('/ok', (_req, res) => res.end('ok'));
    const inner = memoryStore();
    const claimed: WeakRef<object>[] = [];
    const store: Store = {
      ...inner,
      async claimDue(input) {
        const claims = await inner.claimDue(input);
        for (const claim of claims) claimed.push(new WeakRef(claim));
        return claims;
      },
    };
    delete store.watch; // no watch: claims that wait are marked to be read again
    const registry = new WebhookRegistry({ store });
    await registry.create('acme', { url: receiver.url('/ok'), eventTypes: ['pay'] });
    const worker = registry.worker({
      ssrf: { allow: ['127.0.0.1'] },
      concurrency: 8,
      perWebhookConcurrency: 1,
      pollIntervalMs: 10, // given-back claims are due again this soon
    });
    const N = 60;
    let succeeded = 0;
    const done = new Promise<void>((resolve) =>
      worker.on('delivery.succeeded', () => {
        if (++succeeded === N) resolve();
      }),
    );
    for (let i = 0; i < N; i++) await registry.emit({ scope: 'acme', type: 'pay', data: { n: i } });
    worker.start();
    await done;
    await worker.drain();
    // Most claims were given back (one slot for the webhook, one waiting); none may stay held.
    expect(claimed.length).toBeGreaterThan(2 * N);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    gc();
    const alive = claimed.filter((ref) => ref.deref() !== undefined).length;
    expect(alive).toBeLessThan(10);
    await worker.stop();
  });
});
