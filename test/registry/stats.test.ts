/** registry.stats(): the outbox's health by the registry's clock (memory store, fake clock). */
import { describe, expect, it } from 'vitest';
import { HooklineError, memoryStore, type Store, ValidationError, WebhookRegistry } from '../../src/index.js';
import { captureTransport, createFakeClock } from '../../src/testing/index.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const PAID = 'order.paid';

function setup(respond: (url: string) => number = () => 200) {
  const clock = createFakeClock({ now: T0 });
  const store = memoryStore();
  const registry = new WebhookRegistry({ store, clock });
  const transport = captureTransport({ respond: (request) => respond(request.url) });
  const worker = registry.worker({ transport, random: () => 0.5, pollIntervalMs: 1000 });
  return { clock, store, registry, worker };
}

describe('registry.stats()', () => {
  it('reports an empty outbox', async () => {
    const { registry } = setup();
    expect(await registry.stats()).toEqual({
      now: new Date(T0),
      pending: 0,
      due: 0,
      inFlight: 0,
      oldestDueAt: null,
      oldestDueAgeMs: null,
      failingWebhookCount: 0,
      failingWebhooks: [],
    });
  });

  it('measures how long the oldest due delivery has waited by the registry clock', async () => {
    const { clock, registry } = setup();
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: [PAID] });
    await registry.emit({ scope: 'acme', type: PAID, data: { n: 1 } });
    clock.advance(1500);
    await registry.emit({ scope: 'acme', type: PAID, data: { n: 2 } });
    clock.advance(2500);
    const stats = await registry.stats();
    expect(stats).toMatchObject({
      now: new Date(T0 + 4000),
      pending: 2,
      due: 2,
      inFlight: 0,
      oldestDueAt: new Date(T0),
      oldestDueAgeMs: 4000,
    });
    clock.advance(60_000);
    expect((await registry.stats()).oldestDueAgeMs).toBe(64_000);
  });

  it('follows the worker: in flight while claimed, failing webhooks after a failed attempt, nothing due after', async () => {
    const { clock, store, registry, worker } = setup((url) => (url.includes('down') ? 503 : 200));
    const up = await registry.create('acme', { url: 'https://up.example/hook', eventTypes: [PAID] });
    const down = await registry.create('acme', { url: 'https://down.example/hook', eventTypes: [PAID] });
    await registry.create('other', { url: 'https://other.example/hook', eventTypes: [PAID] });
    await registry.emit({ scope: 'acme', type: PAID, data: {} });
    await registry.emit({ scope: 'other', type: PAID, data: {} });

    // A claim by someone else (another worker process) is in flight until its lease ends.
    const [claimed] = await store.claimDue({ limit: 1, leaseMs: 30_000, now: new Date(clock.now()) });
    expect(claimed?.webhookId).toBe(up.id); // the oldest due: the first emit's first delivery
    expect(await registry.stats()).toMatchObject({ pending: 3, due: 2, inFlight: 1 });

    await worker.drain();
    const afterDrain = await registry.stats({ perScope: true });
    // The 503 is retried later: pending, neither due nor in flight. The other claim is still leased.
    expect(afterDrain).toMatchObject({
      due: 0,
      oldestDueAt: null,
      oldestDueAgeMs: null,
      failingWebhookCount: 1,
    });
    expect(afterDrain.failingWebhooks).toEqual([
      {
        scope: 'acme',
        webhookId: down.id,
        url: 'https://down.example/hook',
        enabled: true,
        consecutiveFailures: 0,
        failingSince: new Date(T0),
      },
    ]);
    // 'other' was delivered and has nothing failing, so only 'acme' is listed.
    expect(afterDrain.scopes).toEqual([
      {
        scope: 'acme',
        pending: 2,
        due: 0,
        inFlight: 1,
        oldestDueAt: null,
        oldestDueAgeMs: null,
        failingWebhookCount: 1,
      },
    ]);

    // When the lease ends, the claimed delivery is due again, since its first due time (and the
    // retry of the 503, a few seconds after it).
    clock.advance(30_000);
    const later = await registry.stats({ scope: 'acme' });
    expect(later).toMatchObject({
      pending: 2,
      due: 2,
      inFlight: 0,
      oldestDueAt: new Date(T0),
      oldestDueAgeMs: 30_000,
    });
  });

  it('limits everything to one scope', async () => {
    const { registry } = setup();
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: [PAID] });
    await registry.create('other', { url: 'https://o.example/hook', eventTypes: [PAID] });
    await registry.emit({ scope: 'acme', type: PAID, data: {} });
    await registry.emit({ scope: 'other', type: PAID, data: {} });
    await registry.emit({ scope: 'other', type: PAID, data: {} });
    expect(await registry.stats({ scope: 'acme' })).toMatchObject({ pending: 1, due: 1 });
    expect(await registry.stats({ scope: 'other' })).toMatchObject({ pending: 2, due: 2 });
    const nobody = await registry.stats({ scope: 'nobody' });
    expect(nobody).toMatchObject({ pending: 0, due: 0 });
    expect(nobody).not.toHaveProperty('scopes');
    const one = await registry.stats({ scope: 'other', perScope: true });
    expect(one.scopes).toEqual([
      {
        scope: 'other',
        pending: 2,
        due: 2,
        inFlight: 0,
        oldestDueAt: new Date(T0),
        oldestDueAgeMs: 0,
        failingWebhookCount: 0,
      },
    ]);
  });

  it('refuses options of the wrong type with invalid_option, and a bad scope with a ValidationError', async () => {
    const { registry } = setup();
    for (const [options, option] of [
      [null, 'options'],
      ['acme', 'options'],
      [{ scope: 42 }, 'scope'],
      [{ perScope: 'yes' }, 'perScope'],
    ] as const) {
      const error = await registry.stats(options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HooklineError);
      expect(error).toMatchObject({ code: 'invalid_option' });
      expect((error as Error).message).toContain(`registry.stats(): option "${option}"`);
    }
    await expect(registry.stats({ scope: '' })).rejects.toBeInstanceOf(ValidationError);
  });

  it('throws store_unsupported, naming the method, for a store without outboxStats', async () => {
    const { outboxStats: _, ...rest } = memoryStore();
    const store: Store = { ...rest, name: 'legacy' };
    const registry = new WebhookRegistry({ store });
    const error = await registry.stats().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HooklineError);
    expect(error).toMatchObject({ code: 'store_unsupported' });
    expect((error as Error).message).toMatch(/outboxStats\(\)/);
    expect((error as Error).message).toContain('"legacy"');
  });
});
