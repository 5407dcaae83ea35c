/** registry.recover() and registry.cancel(): bulk recovery and stopping retries (memory store, fake clock). */
import { describe, expect, it, vi } from 'vitest';
import {
  ConflictError,
  HooklineError,
  memoryStore,
  NotFoundError,
  type RecoverProgress,
  type Store,
  ValidationError,
  WebhookRegistry,
} from '../../src/index.js';
import { captureTransport, createFakeClock } from '../../src/testing/index.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const HOUR = 3_600_000;
const PAID = 'order.paid';
const REFUNDED = 'order.refunded';

/** A registry whose receivers answer `status()` (500 by default: failed after one attempt, no retries). */
function setup(options: { retries?: number[]; store?: Store } = {}) {
  const clock = createFakeClock({ now: T0 });
  const store = options.store ?? memoryStore();
  let answer = 500;
  const registry = new WebhookRegistry({
    store,
    clock,
    retryPolicy: { name: 'test', delaysMs: options.retries ?? [] },
  });
  const transport = captureTransport({ respond: () => answer });
  const worker = registry.worker({ transport, random: () => 0.5, pollIntervalMs: 1000 });
  const answerWith = (status: number) => {
    answer = status;
  };
  return { clock, store, registry, transport, worker, answerWith };
}

/** Emits `count` notifications of `type` in `scope` and lets the worker fail them all. */
async function failSome(
  s: ReturnType<typeof setup>,
  count: number,
  type = PAID,
  scope = 'acme',
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const result = await s.registry.emit({ scope, type, data: { i } });
    ids.push(...result.deliveryIds);
  }
  await s.worker.drain();
  return ids;
}

async function states(registry: WebhookRegistry, ids: readonly string[], scope = 'acme'): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await registry.getDelivery(scope, id)).state));
}

describe('registry.recover()', () => {
  it('queues again exactly what failed in the range, with the same ids; a second run queues nothing', async () => {
    const s = setup();
    const hook = await s.registry.create('acme', { url: 'https://down.example/hook', eventTypes: [PAID] });
    const before = await failSome(s, 3); // failed at T0
    s.clock.advance(HOUR);
    const inRange = await failSome(s, 2); // failed at T0 + 1 h
    s.clock.advance(HOUR);
    expect(await states(s.registry, [...before, ...inRange])).toEqual(Array(5).fill('failed'));

    const since = new Date(T0 + 30 * 60_000);
    expect(await s.registry.recover({ scope: 'acme', since })).toEqual({ matched: 2, queued: 2, skipped: 0 });
    expect(await states(s.registry, before)).toEqual(['failed', 'failed', 'failed']);
    for (const id of inRange) {
      expect(await s.registry.getDelivery('acme', id)).toMatchObject({
        state: 'pending',
        attemptCount: 0,
        nextAttemptAt: new Date(T0 + 2 * HOUR),
        webhookId: hook.id,
      });
    }
    // Twice in a row: the queued ones are pending, not failed.
    expect(await s.registry.recover({ scope: 'acme', since })).toEqual({ matched: 0, queued: 0, skipped: 0 });

    s.transport.clear();
    s.answerWith(200);
    await s.worker.drain();
    expect(s.transport.requests.map((r) => r.headers['webhook-id']).sort()).toEqual([...inRange].sort());
    expect(await states(s.registry, inRange)).toEqual(['succeeded', 'succeeded']);
    await s.worker.stop();
  });

  it('wakes a running worker at once (no poll needed)', async () => {
    const s = setup();
    await s.registry.create('acme', { url: 'https://down.example/hook', eventTypes: [PAID] });
    const ids = await failSome(s, 2);
    s.transport.clear();
    s.answerWith(200);
    // Let every timer the worker set fire, and let it go idle: its next poll is then a full
    // interval away, which the fake clock never reaches.
    s.clock.advance(5_000);
    await s.worker.drain();
    expect(s.transport.requests).toHaveLength(0);
    // The worker is running and idle; the fake clock does not reach its next poll, so only a wake-up sends.
    expect(await s.registry.recover({ scope: 'acme', since: new Date(T0) })).toMatchObject({ queued: 2 });
    await vi.waitFor(() => expect(s.transport.requests).toHaveLength(2), { timeout: 5_000 });
    await s.worker.drain();
    expect(await states(s.registry, ids)).toEqual(['succeeded', 'succeeded']);
    await s.worker.stop();
  });

  it('filters by webhook, event types and states, and leaves other scopes alone', async () => {
    const s = setup();
    const a = await s.registry.create('acme', {
      url: 'https://a.example/hook',
      eventTypes: [PAID, REFUNDED],
    });
    await s.registry.create('acme', { url: 'https://b.example/hook', eventTypes: [PAID] });
    await s.registry.create('other', { url: 'https://c.example/hook', eventTypes: [PAID] });
    const paid = await failSome(s, 1, PAID); // a and b
    const refunded = await failSome(s, 1, REFUNDED); // a only
    const foreign = await failSome(s, 1, PAID, 'other');
    s.clock.advance(1_000);
    const since = new Date(T0);

    expect(await s.registry.recover({ scope: 'acme', since, webhookId: a.id, types: [REFUNDED] })).toEqual({
      matched: 1,
      queued: 1,
      skipped: 0,
    });
    expect(await states(s.registry, refunded)).toEqual(['pending']);
    expect(await s.registry.recover({ scope: 'acme', since, states: ['canceled'] })).toMatchObject({
      matched: 0,
    });
    expect(await s.registry.recover({ scope: 'acme', since, states: ['failed', 'canceled'] })).toMatchObject({
      matched: 2,
      queued: 2,
    });
    expect(await states(s.registry, paid)).toEqual(['pending', 'pending']);
    expect(await states(s.registry, foreign, 'other')).toEqual(['failed']);
    // A webhook of another scope is not found, as everywhere.
    const theirs = (await s.registry.list('other')).items[0]?.id as number;
    await expect(s.registry.recover({ scope: 'acme', since, webhookId: theirs })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('recovers canceled deliveries when asked, and skips those of disabled webhooks until enabled', async () => {
    const s = setup({ retries: [60_000] });
    const hook = await s.registry.create('acme', { url: 'https://down.example/hook', eventTypes: [PAID] });
    const ids = await failSome(s, 2); // first attempt failed, retry pending
    await s.registry.disable('acme', hook.id);
    s.clock.advance(61_000); // the retries come due; the worker cancels them (webhook disabled)
    await s.worker.drain();
    s.clock.advance(1_000);
    expect(await states(s.registry, ids)).toEqual(['canceled', 'canceled']);
    const options = { scope: 'acme', since: new Date(T0), states: ['canceled'] as const };
    expect(await s.registry.recover({ ...options, states: [...options.states] })).toEqual({
      matched: 2,
      queued: 0,
      skipped: 2,
    });
    expect(await states(s.registry, ids)).toEqual(['canceled', 'canceled']);
    await s.registry.enable('acme', hook.id);
    expect(await s.registry.recover({ ...options, states: ['canceled'] })).toEqual({
      matched: 2,
      queued: 2,
      skipped: 0,
    });
    expect(await states(s.registry, ids)).toEqual(['pending', 'pending']);
    await s.worker.stop();
  });

  it('streams in batches with progress; a dry run counts only; a signal stops before the next batch', async () => {
    const s = setup();
    await s.registry.create('acme', { url: 'https://down.example/hook', eventTypes: [PAID] });
    const ids = await failSome(s, 7);
    await s.worker.stop();
    s.clock.advance(1_000);
    const since = new Date(T0);

    const dry: RecoverProgress[] = [];
    expect(
      await s.registry.recover({
        scope: 'acme',
        since,
        batchSize: 3,
        dryRun: true,
        onProgress: (p) => dry.push(p),
      }),
    ).toEqual({ matched: 7, queued: 0, skipped: 0 });
    expect(dry.map((p) => p.matched)).toEqual([3, 6, 7]);
    expect(await states(s.registry, ids)).toEqual(Array(7).fill('failed'));

    const controller = new AbortController();
    const progress: RecoverProgress[] = [];
    const stopped = s.registry.recover({
      scope: 'acme',
      since,
      batchSize: 3,
      signal: controller.signal,
      onProgress: (p) => {
        progress.push(p);
        controller.abort(new Error('operator pressed ^C'));
      },
    });
    await expect(stopped).rejects.toThrow('operator pressed ^C');
    expect(progress).toEqual([{ matched: 3, queued: 3, skipped: 0 }]);
    const after = await states(s.registry, ids);
    expect(after.filter((state) => state === 'pending')).toHaveLength(3);

    const rest: RecoverProgress[] = [];
    expect(
      await s.registry.recover({ scope: 'acme', since, batchSize: 3, onProgress: (p) => rest.push(p) }),
    ).toEqual({
      matched: 4,
      queued: 4,
      skipped: 0,
    });
    expect(rest.at(-1)).toEqual({ matched: 4, queued: 4, skipped: 0 });
    expect(await states(s.registry, ids)).toEqual(Array(7).fill('pending'));
  });

  it('refuses bad options with typed errors', async () => {
    const s = setup();
    await s.registry.create('acme', { url: 'https://a.example/hook', eventTypes: [PAID] });
    const since = new Date(T0 - HOUR);
    const refused = async (options: unknown) => {
      try {
        await s.registry.recover(options as Parameters<WebhookRegistry['recover']>[0]);
      } catch (error) {
        return error;
      }
      throw new Error(`accepted ${JSON.stringify(options)}`);
    };
    const invalid = async (options: unknown, field: string) => {
      const error = await refused(options);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.path[0]).toBe(field);
    };
    await invalid({ scope: 'acme', since: new Date('nope') }, 'since');
    await invalid({ scope: 'acme', since: '2026-01-01' }, 'since');
    await invalid({ scope: 'acme', since, until: new Date(T0 - 2 * HOUR) }, 'until');
    await invalid({ scope: 'acme', since, until: since }, 'until');
    await invalid({ scope: 'acme', since: new Date(T0 + HOUR) }, 'until'); // since in the future
    await invalid({ scope: 'acme', since, states: ['succeeded'] }, 'states');
    await invalid({ scope: 'acme', since, states: [] }, 'states');
    await invalid({ scope: 'acme', since, types: ['order.*'] }, 'types');
    await invalid({ scope: 'acme', since, batchSize: 0 }, 'batchSize');
    await invalid({ scope: 'acme', since, batchSize: 10_001 }, 'batchSize');
    await invalid({ scope: 'acme', since, batchSize: 1.5 }, 'batchSize');
    await invalid({ scope: '', since }, 'scope');
    await invalid({ scope: 'acme', since, webhookId: -1 }, 'id');
    for (const [options, option] of [
      [null, 'options'],
      [{ scope: 'acme', since, dryRun: 'yes' }, 'dryRun'],
      [{ scope: 'acme', since, onProgress: 1 }, 'onProgress'],
      [{ scope: 'acme', since, signal: {} }, 'signal'],
    ] as const) {
      const error = await refused(options);
      expect(error).toBeInstanceOf(HooklineError);
      expect(error).toMatchObject({ code: 'invalid_option' });
      expect((error as Error).message).toContain(`"${option}"`);
    }
    // The largest batch is fine.
    expect(await s.registry.recover({ scope: 'acme', since, batchSize: 10_000 })).toEqual({
      matched: 0,
      queued: 0,
      skipped: 0,
    });
  });

  it('throws store_unsupported for a store without recoverDeliveries or cancelDelivery', async () => {
    const full = memoryStore();
    const { recoverDeliveries: _r, cancelDelivery: _c, ...rest } = full;
    const s = setup({ store: rest as Store });
    await s.registry.create('acme', { url: 'https://a.example/hook', eventTypes: [PAID] });
    const { deliveryIds } = await s.registry.emit({ scope: 'acme', type: PAID, data: {} });
    await expect(s.registry.recover({ scope: 'acme', since: new Date(T0 - 1) })).rejects.toMatchObject({
      code: 'store_unsupported',
    });
    await expect(s.registry.cancel('acme', deliveryIds[0] as string)).rejects.toMatchObject({
      code: 'store_unsupported',
    });
  });
});

describe('registry.cancel()', () => {
  it("stops a pending delivery's retries: no further attempt, even after the retry was due", async () => {
    const s = setup({ retries: [60_000, 60_000] });
    await s.registry.create('acme', { url: 'https://down.example/hook', eventTypes: [PAID] });
    const [id] = await failSome(s, 1);
    expect(await s.registry.getDelivery('acme', id as string)).toMatchObject({
      state: 'pending',
      attemptCount: 1,
    });
    const canceled = await s.registry.cancel('acme', id as string, { reason: 'receiver retired' });
    expect(canceled).toMatchObject({
      id,
      state: 'canceled',
      lastError: 'receiver retired',
      nextAttemptAt: null,
    });
    s.clock.advance(10 * 60_000);
    await s.worker.drain();
    expect(s.transport.requests).toHaveLength(1);
    expect((await s.registry.attempts('acme', id as string)).count).toBe(1);
    // Finished now: a second cancel is a conflict; it can be redelivered.
    await expect(s.registry.cancel('acme', id as string)).rejects.toBeInstanceOf(ConflictError);
    expect((await s.registry.redeliver('acme', id as string)).state).toBe('pending');
    await s.worker.stop();
  });

  it('cancels a delivery whose attempt is in flight; its outcome is dropped and nothing is retried', async () => {
    const clock = createFakeClock({ now: T0 });
    const registry = new WebhookRegistry({ clock, retryPolicy: { name: 'test', delaysMs: [1_000] } });
    let release: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started: () => void = () => {};
    const sent = new Promise<void>((resolve) => {
      started = resolve;
    });
    const transport = captureTransport({
      respond: async () => {
        started();
        await inFlight;
        return 503;
      },
    });
    const worker = registry.worker({ transport, random: () => 0.5 });
    await registry.create('acme', { url: 'https://slow.example/hook', eventTypes: [PAID] });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: PAID, data: {} });
    const id = deliveryIds[0] as string;
    worker.start();
    await sent;
    expect((await registry.cancel('acme', id)).state).toBe('canceled');
    release();
    await worker.drain();
    clock.advance(60_000);
    await worker.drain();
    expect(transport.requests).toHaveLength(1);
    expect(await registry.getDelivery('acme', id)).toMatchObject({
      state: 'canceled',
      attemptCount: 0,
      lastError: 'canceled',
    });
    expect((await registry.attempts('acme', id)).count).toBe(0);
    await worker.stop();
  });

  it("refuses finished deliveries, another scope's, and bad reasons", async () => {
    const s = setup();
    await s.registry.create('acme', { url: 'https://down.example/hook', eventTypes: [PAID] });
    await s.registry.create('other', { url: 'https://down.example/hook', eventTypes: [PAID] });
    const [failed] = await failSome(s, 1);
    await s.worker.stop();
    const { deliveryIds } = await s.registry.emit({ scope: 'other', type: PAID, data: {} });
    const theirs = deliveryIds[0] as string;
    await expect(s.registry.cancel('acme', failed as string)).rejects.toMatchObject({
      code: 'conflict',
      field: 'state',
    });
    await expect(s.registry.cancel('acme', theirs)).rejects.toBeInstanceOf(NotFoundError);
    expect((await s.registry.getDelivery('other', theirs)).state).toBe('pending');
    await expect(s.registry.cancel('acme', 'msg_unknown')).rejects.toBeInstanceOf(NotFoundError);
    for (const reason of ['', 'x'.repeat(1_001), 'a\0b', 7]) {
      await expect(s.registry.cancel('other', theirs, { reason: reason as string })).rejects.toBeInstanceOf(
        ValidationError,
      );
    }
    expect((await s.registry.getDelivery('other', theirs)).state).toBe('pending');
  });
});
