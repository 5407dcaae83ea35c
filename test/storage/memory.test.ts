import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/index.js';
import { newDelivery, storeConformance, webhookFields } from '../../src/testing/conformance-index.js';

storeConformance({ name: 'memory', createStore: () => memoryStore() });

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
