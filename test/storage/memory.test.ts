import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/index.js';
import { newDelivery, storeConformance, webhookFields } from '../../src/testing/conformance-index.js';

storeConformance({
  name: 'memory',
  createStore: () => memoryStore(),
  capabilities: {
    watch: true,
    webhooksVersion: true,
    close: false,
    outboxStats: true,
    searchDeliveries: true,
    webhookActivity: true,
    enqueueMany: true,
    deliveryLine: true,
  },
});

describe('memory store: stored request headers', () => {
  it('keeps exactly the own headers given, a header named __proto__ included, frozen in claims', async () => {
    const store = memoryStore();
    const hook = await store.insertWebhook({ scope: 's', fields: webhookFields(), now: new Date(0) });
    const inherited = Object.create({ 'x-inherited': 'no' }) as Record<string, string>;
    inherited['content-type'] = 'application/json';
    Object.defineProperty(inherited, '__proto__', { value: 'odd', enumerable: true });
    const delivery = newDelivery(hook.id);
    delivery.request = { ...delivery.request, headers: inherited };
    await store.enqueue({ scope: 's', notificationId: 'n1', deliveries: [delivery], now: new Date(0) });

    const stored = await store.getDelivery({ scope: 's', id: delivery.id });
    expect(Object.entries(stored?.request.headers ?? {})).toEqual([
      ['content-type', 'application/json'],
      ['__proto__', 'odd'],
    ]);
    const [claim] = await store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(0) });
    expect(Object.isFrozen(claim?.request.headers)).toBe(true);
    expect(Object.getPrototypeOf(claim?.request.headers)).toBe(Object.prototype);
    expect(Object.keys(claim?.request.headers ?? {})).toEqual(['content-type', '__proto__']);
  });
});

describe('memory store: deliveries kept column by column', () => {
  const at = (ms: number) => new Date(1_700_000_000_000 + ms);

  it('gives back every field of thousands of deliveries (tables grown several times), bodies of any text', async () => {
    const store = memoryStore();
    const hook = await store.insertWebhook({ scope: 's', fields: webhookFields(), now: at(0) });
    const other = await store.insertWebhook({ scope: 't', fields: webhookFields(), now: at(0) });
    const bodies = ['{"a":1}', '{"name":"Grüße 東京 🎉"}', '', 'y'.repeat(3000)];
    const made = [];
    for (let i = 0; i < 5000; i++) {
      const scope = i % 7 === 0 ? 't' : 's';
      const d = newDelivery(scope === 't' ? other.id : hook.id, {
        type: `type.${i % 3}`,
        event: i % 2 === 0 ? null : 'democon',
        request: {
          url: `https://receiver.example/hook/${i % 5}`,
          method: i % 4 === 0 ? 'PUT' : 'POST',
          headers:
            i % 9 === 0
              ? { 'content-type': 'text/plain', 'x-n': String(i) }
              : { 'content-type': 'application/json' },
          body: `${bodies[i % bodies.length]}${i}`,
        },
        ...(i % 11 === 0 ? { failure: `render failed ${i}` } : {}),
      });
      await store.enqueue({ scope, notificationId: `n${i}`, deliveries: [d], now: at(i) });
      made.push({ scope, d, i });
    }
    for (const { scope, d, i } of made.filter((_, k) => k % 97 === 0 || k === 4999)) {
      const got = await store.getDelivery({ scope, id: d.id });
      expect(got).toMatchObject({
        id: d.id,
        scope,
        webhookId: d.webhookId,
        notificationId: `n${i}`,
        type: d.type,
        event: d.event,
        request: d.request,
        state: i % 11 === 0 ? 'failed' : 'pending',
        attemptCount: 0,
        nextAttemptAt: i % 11 === 0 ? null : at(i),
        lastStatus: null,
        lastError: i % 11 === 0 ? `render failed ${i}` : null,
        createdAt: at(i),
        updatedAt: at(i),
      });
      // Another scope sees nothing of it.
      expect(await store.getDelivery({ scope: scope === 's' ? 't' : 's', id: d.id })).toBeNull();
    }
    const claims = await store.claimDue({ limit: 10_000, leaseMs: 1_000, now: at(10_000) });
    expect(claims).toHaveLength(made.filter(({ i }) => i % 11 !== 0).length);
    const byId = new Map(made.map(({ d }) => [d.id, d]));
    for (const c of claims) expect(c.request).toEqual(byId.get(c.id)?.request);
  });

  it('reuses purged attempt slots and keeps every delivery log right', async () => {
    const store = memoryStore();
    const hook = await store.insertWebhook({ scope: 's', fields: webhookFields(), now: at(0) });
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const d = newDelivery(hook.id);
      ids.push(d.id);
      await store.enqueue({ scope: 's', notificationId: `n${i}`, deliveries: [d], now: at(0) });
    }
    let t = 0;
    const attemptAll = async (status: number) => {
      t += 1000;
      for (const c of await store.claimDue({ limit: 100, leaseMs: 500, now: at(t) })) {
        await store.recordAttempts({
          items: [
            {
              deliveryId: c.id,
              leaseToken: c.leaseToken,
              attempt: {
                startedAt: at(t),
                durationMs: 1,
                status,
                ok: false,
                error: `HTTP ${status}`,
                responseBody: `body ${status}`,
                responseHeaders: {},
              },
              outcome: { state: 'pending', nextAttemptAt: at(t + 1) },
              now: at(t),
            },
          ],
        });
      }
    };
    await attemptAll(500);
    await attemptAll(502);
    expect(await store.purgeAttempts({ before: at(1500) })).toBe(50); // the 500s
    await attemptAll(503); // into the purged slots
    for (const id of ids) {
      const log = await store.listAttempts({ scope: 's', deliveryId: id, offset: 0, limit: null });
      expect(log.items.map((a) => [a.status, a.attemptNumber, a.retry, a.responseBody])).toEqual([
        [503, 3, true, 'body 503'],
        [502, 2, true, 'body 502'],
      ]);
    }
    const allIds = new Set<number>();
    for (const id of ids) {
      for (const a of (await store.listAttempts({ scope: 's', deliveryId: id, offset: 0, limit: null }))
        .items)
        allIds.add(a.id);
    }
    expect(allIds.size).toBe(100); // attempt ids stay unique when slots are reused
  });
});

describe('memory store: watchers', () => {
  it('a watcher that throws stops neither a wake-up nor a webhook change reaching the others', async () => {
    const store = memoryStore();
    let thrown = 0;
    const heard: string[] = [];
    let dueHeard: () => void = () => {};
    const due = new Promise<void>((resolve) => {
      dueHeard = resolve;
    });
    await store.watch!(() => {
      thrown++;
      throw new Error('a watcher that throws');
    });
    await store.watch!((signal) => {
      heard.push(signal.type);
      if (signal.type === 'due') dueHeard();
    });
    const hook = await store.insertWebhook({ scope: 's', fields: webhookFields(), now: new Date(0) });
    await store.updateWebhook({ scope: 's', id: hook.id, changes: { enabled: false }, now: new Date(0) });
    await store.enqueue({
      scope: 's',
      notificationId: 'n',
      deliveries: [newDelivery(hook.id)],
      now: new Date(0),
    });
    await due; // a throw in the wake-up's microtask would be uncaught, which fails the run
    expect(heard).toEqual(['webhook', 'due']);
    expect(thrown).toBe(2);
  });
});
