/**
 * Ordered delivery end to end on the memory store: real workers (three, concurrency 8 each)
 * sending real HTTP to a `node:http` receiver on 127.0.0.1 that fails at random (seeded), and
 * records, per line, what it accepted and how many requests of the line were open at once.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Delivery,
  memoryStore,
  type RetryPolicy,
  type WebhookRecord,
  WebhookRegistry,
  type WebhookWorker,
} from '../../src/index.js';
import { seededRandom } from '../helpers/random.js';

/** One request as the receiver saw it: which line, which seq, and how it was answered. */
interface Arrival {
  path: string;
  line: string;
  seq: number;
  webhookId: string;
  status: number;
}

/** What the receiver answers for one request: a status, at once or later. */
type Decide = (request: {
  path: string;
  line: string;
  seq: number;
  webhookId: string;
  attempt: number;
}) => number | Promise<number>;

/**
 * The receiver. A line is `path|data.line` (`path|-` without a key). Each request counts as
 * open from its arrival until its answer is written; the receiver answers after 0–2 ms (so
 * requests overlap), with what `decide` says (default: 200).
 */
class LineReceiver {
  readonly arrivals: Arrival[] = [];
  /** Open requests per line, and the most ever open at once. */
  readonly open = new Map<string, number>();
  readonly maxOpen = new Map<string, number>();
  /** The same per path (per webhook). */
  readonly openByPath = new Map<string, number>();
  readonly maxOpenByPath = new Map<string, number>();
  /** Requests per webhook-id so far (for `attempt`). */
  readonly #attempts = new Map<string, number>();
  decide: Decide = () => 200;
  readonly #random: () => number;
  readonly #server: http.Server;
  port = 0;

  constructor(seed: number) {
    this.#random = seededRandom(seed);
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => void this.#handle(req, res, Buffer.concat(chunks)));
    });
  }

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.port = (this.#server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Seeded random number in [0, 1), for `decide` functions. */
  random(): number {
    return this.#random();
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const data = (JSON.parse(body.toString('utf8')) as { data: { line?: string; seq: number } }).data;
    const line = `${path}|${data.line ?? '-'}`;
    const webhookId = String(req.headers['webhook-id']);
    const attempt = (this.#attempts.get(webhookId) ?? 0) + 1;
    this.#attempts.set(webhookId, attempt);
    const bump = (map: Map<string, number>, max: Map<string, number>, key: string, by: number) => {
      const now = (map.get(key) ?? 0) + by;
      map.set(key, now);
      if (now > (max.get(key) ?? 0)) max.set(key, now);
    };
    bump(this.open, this.maxOpen, line, 1);
    bump(this.openByPath, this.maxOpenByPath, path, 1);
    const status = await this.decide({ path, line, seq: data.seq, webhookId, attempt });
    const delay = Math.floor(this.#random() * 3);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    this.arrivals.push({ path, line, seq: data.seq, webhookId, status });
    bump(this.open, this.maxOpen, line, -1);
    bump(this.openByPath, this.maxOpenByPath, path, -1);
    res.writeHead(status);
    res.end(status < 300 ? 'ok' : 'not now');
  }

  /** The arrivals of one line, in the order they were answered. */
  of(line: string): Arrival[] {
    return this.arrivals.filter((a) => a.line === line);
  }

  /** The seqs one line accepted (2xx), in the order they were answered. */
  accepted(line: string): number[] {
    return this.of(line)
      .filter((a) => a.status < 300)
      .map((a) => a.seq);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

/** Retries quickly, many times: with at most 3 failures per delivery, every one succeeds. */
const QUICK: RetryPolicy = { name: 'quick', delaysMs: Array(10).fill(5) };
/** One attempt only: the first failure is final. */
const ONCE: RetryPolicy = { name: 'once', delaysMs: [] };

/** 30 % 500s, at most 3 per delivery (seeded). */
function randomFailures(receiver: LineReceiver): Decide {
  return ({ attempt }) => (attempt <= 3 && receiver.random() < 0.3 ? 500 : 200);
}

/** A counter of one worker event over several workers, awaited by count. */
function counter(workers: WebhookWorker[], event: 'delivery.succeeded' | 'delivery.failed') {
  let count = 0;
  let waiters: { n: number; resolve: () => void }[] = [];
  const seen: Delivery[] = [];
  for (const worker of workers) {
    worker.on(event, ({ delivery }) => {
      count += 1;
      seen.push(delivery);
      waiters = waiters.filter((w) => {
        if (count < w.n) return true;
        w.resolve();
        return false;
      });
    });
  }
  return {
    seen,
    get count() {
      return count;
    },
    /** Resolves once `n` events were seen in all. */
    until(n: number): Promise<void> {
      if (count >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

let receiver: LineReceiver;
beforeAll(async () => {
  receiver = new LineReceiver(20_251);
  await receiver.start();
});
afterAll(() => receiver.close());

function setup(retryPolicy: RetryPolicy | ((webhook: WebhookRecord) => RetryPolicy) = QUICK) {
  const store = memoryStore();
  const registry = new WebhookRegistry({ store, retryPolicy });
  const workers = Array.from({ length: 3 }, () =>
    registry.worker({
      concurrency: 8,
      perWebhookConcurrency: 8,
      ssrf: { allow: ['127.0.0.1'] },
      autoDisable: false,
      timeoutMs: 10_000,
    }),
  );
  return { store, registry, workers };
}

/** Every delivery of a webhook (at most 1000). */
async function allDeliveries(registry: WebhookRegistry, webhookId: number): Promise<Delivery[]> {
  return (await registry.deliveries('acme', webhookId, { pageSize: 1000 })).items;
}

/**
 * FIFO as the receiver saw it: attempts of a line never go back to an earlier seq, and a seq
 * is attempted only after the one before it was accepted. With every delivery succeeding, the
 * accepted seqs are exactly 0..n-1, each once.
 */
function expectFifo(line: string, n: number) {
  const arrivals = receiver.of(line);
  let current = 0;
  for (const arrival of arrivals) {
    expect(arrival.seq, `${line}: seq ${arrival.seq} attempted while ${current} was not done`).toBe(current);
    if (arrival.status < 300) current += 1;
  }
  expect(receiver.accepted(line)).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(receiver.maxOpen.get(line), `${line}: requests open at once`).toBe(1);
}

describe('ordered delivery end to end (memory store, 3 workers, real HTTP)', () => {
  it('keeps each key’s line in emit order under random failures, one request at a time, keys in parallel; an unordered webhook stays parallel', {
    timeout: 60_000,
  }, async () => {
    const { registry, workers } = setup();
    receiver.decide = randomFailures(receiver);
    const ordered = await registry.create('acme', {
      url: receiver.url('/keyed'),
      eventTypes: ['order.*'],
      ordering: 'fifo',
    });
    const unordered = await registry.create('acme', {
      url: receiver.url('/unordered'),
      eventTypes: ['order.*'],
    });
    const succeeded = counter(workers, 'delivery.succeeded');
    const failed = counter(workers, 'delivery.failed');
    for (const worker of workers) worker.start();

    const KEYS = 8;
    const N = 320;
    // Emitted while the workers run, in bursts of 40 (5 per key) emitted concurrently per key
    // but in order within a key.
    for (let burst = 0; burst < N; burst += 40) {
      await Promise.all(
        Array.from({ length: KEYS }, async (_, k) => {
          for (let j = 0; j < 40 / KEYS; j++) {
            const seq = (burst / KEYS) | 0;
            await registry.emit({
              scope: 'acme',
              type: 'order.changed',
              orderingKey: `order-${k}`,
              data: { line: `order-${k}`, seq: seq + j },
            });
          }
        }),
      );
    }
    await Promise.race([
      succeeded.until(2 * N),
      failed.until(1).then(() => {
        throw new Error(`a delivery failed for good: ${failed.seen[0]?.id}`);
      }),
    ]);
    await Promise.all(workers.map((w) => w.stop()));

    expect(failed.count).toBe(0);
    const failures = receiver.arrivals.filter((a) => a.status >= 300 && a.path === '/keyed').length;
    expect(failures, 'the receiver failed some attempts').toBeGreaterThan(N / 10);
    for (let k = 0; k < KEYS; k++) expectFifo(`/keyed|order-${k}`, N / KEYS);
    // Keys proceed in parallel, and so does the unordered webhook.
    expect(receiver.maxOpenByPath.get('/keyed')).toBeGreaterThan(1);
    expect(receiver.maxOpenByPath.get('/unordered')).toBeGreaterThan(1);
    // Every delivery succeeded exactly once.
    const accepted = receiver.arrivals.filter(
      (a) => a.status < 300 && (a.path === '/keyed' || a.path === '/unordered'),
    );
    expect(accepted).toHaveLength(2 * N);
    expect(new Set(accepted.map((a) => a.webhookId)).size).toBe(2 * N);

    const orderedDeliveries = await allDeliveries(registry, ordered.id);
    expect(orderedDeliveries).toHaveLength(N);
    for (const d of orderedDeliveries) {
      expect(d).toMatchObject({ state: 'succeeded', ordered: true, pausesLine: false, nextAttemptAt: null });
      expect(d.orderingKey).toMatch(/^order-[0-7]$/);
    }
    const unorderedDeliveries = await allDeliveries(registry, unordered.id);
    expect(unorderedDeliveries).toHaveLength(N);
    for (const d of unorderedDeliveries) {
      expect(d).toMatchObject({ state: 'succeeded', ordered: false, orderingKey: null });
    }
  });

  it('makes the whole webhook one line when notifications have no orderingKey', {
    timeout: 60_000,
  }, async () => {
    const { registry, workers } = setup();
    receiver.decide = randomFailures(receiver);
    const hook = await registry.create('acme', {
      url: receiver.url('/whole'),
      eventTypes: ['order.*'],
      ordering: 'fifo',
    });
    const succeeded = counter(workers, 'delivery.succeeded');
    for (const worker of workers) worker.start();
    const N = 80;
    // Half emitted before the workers get to them, half one at a time while they run.
    await registry.emitMany(
      Array.from({ length: N / 2 }, (_, seq) => ({ scope: 'acme', type: 'order.paid', data: { seq } })),
    );
    for (let seq = N / 2; seq < N; seq++) {
      await registry.emit({ scope: 'acme', type: 'order.paid', data: { seq } });
    }
    await succeeded.until(N);
    await Promise.all(workers.map((w) => w.stop()));
    expectFifo('/whole|-', N);
    expect(receiver.of('/whole|-').length).toBeGreaterThan(N);
    for (const d of await allDeliveries(registry, hook.id)) {
      expect(d).toMatchObject({ state: 'succeeded', ordered: true, orderingKey: null });
    }
  });

  it('pauses a line behind a delivery that failed for good, and resumes it in order when it is redelivered', {
    timeout: 60_000,
  }, async () => {
    const { registry, workers } = setup(ONCE);
    // Only a's seq 3, and only its first attempt, fails.
    receiver.decide = ({ line, seq, attempt }) =>
      line === '/paused|a' && seq === 3 && attempt === 1 ? 500 : 200;
    const hook = await registry.create('acme', {
      url: receiver.url('/paused'),
      eventTypes: ['order.*'],
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    const succeeded = counter(workers, 'delivery.succeeded');
    const failed = counter(workers, 'delivery.failed');
    const ids = new Map<string, string>();
    for (let seq = 0; seq < 8; seq++) {
      for (const key of ['a', 'b']) {
        const { deliveryIds } = await registry.emit({
          scope: 'acme',
          type: 'order.paid',
          orderingKey: key,
          data: { line: key, seq },
        });
        ids.set(`${key}${seq}`, deliveryIds[0]!);
      }
    }
    for (const worker of workers) worker.start();
    await failed.until(1);
    await succeeded.until(3 + 8);
    // Nothing is due any more: a's line waits behind a3.
    await Promise.all(workers.map((w) => w.drain()));
    expect(receiver.of('/paused|a').map((a) => `${a.seq}:${a.status}`)).toEqual([
      '0:200',
      '1:200',
      '2:200',
      '3:500',
    ]);
    expectFifo('/paused|b', 8);
    expect(await registry.getDelivery('acme', ids.get('a3')!)).toMatchObject({
      state: 'failed',
      pausesLine: true,
    });
    for (let seq = 4; seq < 8; seq++) {
      expect(await registry.getDelivery('acme', ids.get(`a${seq}`)!)).toMatchObject({
        state: 'pending',
        nextAttemptAt: null,
      });
    }
    const line = await registry.deliveryLine('acme', ids.get('a5')!);
    expect(line?.ahead).toBe(2); // a4 and the paused a3
    expect(line?.blockedBy?.id).toBe(ids.get('a3'));

    await registry.redeliver('acme', ids.get('a3')!);
    await succeeded.until(3 + 8 + 5);
    await Promise.all(workers.map((w) => w.stop()));
    expectFifo('/paused|a', 8);
    expect(failed.count).toBe(1);
    for (const d of await allDeliveries(registry, hook.id)) {
      expect(d).toMatchObject({ state: 'succeeded', pausesLine: false });
    }
  });

  /** Emits seqs 0..3 on lines a and b of `/<path>`; returns the delivery ids by `a0`, `b3`, …. */
  async function emitLines(registry: WebhookRegistry, count = 4): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (let seq = 0; seq < count; seq++) {
      for (const key of ['a', 'b']) {
        const { deliveryIds } = await registry.emit({
          scope: 'acme',
          type: 'order.paid',
          orderingKey: key,
          data: { line: key, seq },
        });
        ids.set(`${key}${seq}`, deliveryIds[0]!);
      }
    }
    return ids;
  }

  /** A request the receiver holds open until the test answers it. */
  function heldRequest() {
    let answer: (status: number) => void = () => undefined;
    const answered = new Promise<number>((resolve) => {
      answer = resolve;
    });
    let arrived: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    return {
      answer,
      arrival,
      /** What `decide` returns for it. */
      hold(): Promise<number> {
        arrived();
        return answered;
      },
    };
  }

  /** After the lines of `path` were canceled: enabled again, new deliveries of both lines go out at once. */
  async function expectFreshLines(
    registry: WebhookRegistry,
    workers: WebhookWorker[],
    hookId: number,
    path: string,
  ) {
    const succeeded = counter(workers, 'delivery.succeeded');
    await registry.enable('acme', hookId);
    for (const key of ['a', 'b']) {
      await registry.emit({
        scope: 'acme',
        type: 'order.paid',
        orderingKey: key,
        data: { line: key, seq: 4 },
      });
    }
    await succeeded.until(2);
    await Promise.all(workers.map((w) => w.stop()));
    expect(receiver.of(`${path}|a`).map((a) => a.seq)).toEqual([0, 4]);
    expect(receiver.of(`${path}|b`).map((a) => a.seq)).toEqual([0, 4]);
  }

  it('cancels the lines of a webhook a worker disables (410): waiting deliveries canceled, the pause ended; new deliveries start afresh once enabled', {
    timeout: 60_000,
  }, async () => {
    const { registry, workers } = setup(ONCE);
    const b0 = heldRequest();
    // a0 fails for good (pausing a's line); b0 is held until then, and answered 410.
    receiver.decide = ({ line, seq }) => {
      if (line === '/gone|a' && seq === 0) return 500;
      if (line === '/gone|b' && seq === 0) return b0.hold();
      return 200;
    };
    const hook = await registry.create('acme', {
      url: receiver.url('/gone'),
      eventTypes: ['order.*'],
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    const failed = counter(workers, 'delivery.failed');
    let disabled: () => void = () => undefined;
    const whenDisabled = new Promise<void>((resolve) => {
      disabled = resolve;
    });
    for (const worker of workers) worker.on('webhook.disabled', () => disabled());
    const ids = await emitLines(registry);
    for (const worker of workers) worker.start();
    await failed.until(1);
    expect(await registry.getDelivery('acme', ids.get('a0')!)).toMatchObject({
      state: 'failed',
      pausesLine: true,
    });
    await b0.arrival;
    b0.answer(410);
    await whenDisabled; // after the worker canceled the webhook's pending deliveries
    for (const id of ['a1', 'a2', 'a3', 'b1', 'b2', 'b3']) {
      expect(await registry.getDelivery('acme', ids.get(id)!), id).toMatchObject({ state: 'canceled' });
    }
    expect(await registry.getDelivery('acme', ids.get('a0')!)).toMatchObject({
      state: 'failed',
      pausesLine: false,
    });
    expect(await registry.getDelivery('acme', ids.get('b0')!)).toMatchObject({
      state: 'failed',
      pausesLine: false,
    });
    await Promise.all(workers.map((w) => w.drain()));
    expect(receiver.of('/gone|a').map((a) => a.seq)).toEqual([0]);
    expect(receiver.of('/gone|b').map((a) => a.seq)).toEqual([0]);
    await expectFreshLines(registry, workers, hook.id, '/gone');
  });

  it('cancels the lines of a webhook disabled by registry.disable(), paused ones included; an attempt in flight is recorded', {
    timeout: 60_000,
  }, async () => {
    const { registry, workers } = setup(ONCE);
    const b0 = heldRequest();
    // a0 fails for good (pausing a's line); b0 is held open until the test answers it.
    receiver.decide = ({ line, seq }) => {
      if (line === '/disabled|a' && seq === 0) return 500;
      if (line === '/disabled|b' && seq === 0) return b0.hold();
      return 200;
    };
    const hook = await registry.create('acme', {
      url: receiver.url('/disabled'),
      eventTypes: ['order.*'],
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    const failed = counter(workers, 'delivery.failed');
    const ids = await emitLines(registry);
    for (const worker of workers) worker.start();
    await failed.until(1);
    await b0.arrival;

    await registry.disable('acme', hook.id);
    b0.answer(200);
    await vi.waitFor(
      async () => {
        for (const id of ['a1', 'a2', 'a3', 'b1', 'b2', 'b3']) {
          expect((await registry.getDelivery('acme', ids.get(id)!)).state, id).toBe('canceled');
        }
        expect(await registry.getDelivery('acme', ids.get('a0')!)).toMatchObject({ pausesLine: false });
        expect(await registry.getDelivery('acme', ids.get('b0')!)).toMatchObject({ state: 'succeeded' });
      },
      { timeout: 10_000, interval: 20 },
    );
    await Promise.all(workers.map((w) => w.drain()));
    expect(receiver.of('/disabled|a').map((a) => a.seq)).toEqual([0]);
    expect(receiver.of('/disabled|b').map((a) => a.seq)).toEqual([0]);
    await expectFreshLines(registry, workers, hook.id, '/disabled');
  });
});
