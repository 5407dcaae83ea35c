/**
 * What the memory store keeps per delivery and per attempt (issue 14, bench/backlog): heap
 * growth measured after full collections, so the figures depend neither on timing nor on the
 * machine's speed; the bounds sit far from both the old and the new representation.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/index.js';
import type { Store } from '../../src/stores/types.js';
import { newDelivery, webhookFields } from '../../src/testing/conformance-index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after full collections, outside the current task (which keeps some garbage alive). */
async function liveHeap(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const at = (ms: number) => new Date(1_700_000_000_000 + ms);

/** A store with `count` pending deliveries to one webhook, enqueued at time 0. */
async function storeWith(count: number): Promise<{ store: Store; webhookId: number }> {
  const store = memoryStore();
  const hook = await store.insertWebhook({ scope: 's', fields: webhookFields(), now: at(0) });
  for (let i = 0; i < count; i += 1000) {
    const deliveries = Array.from({ length: Math.min(1000, count - i) }, () => newDelivery(hook.id));
    await store.enqueue({ scope: 's', notificationId: `n${i}`, deliveries, now: at(0) });
  }
  return { store, webhookId: hook.id };
}

describe('memory store footprint', () => {
  it('keeps a failed attempt in under 200 bytes of heap (about 420 before issue 14)', async () => {
    const N = 20_000;
    const { store } = await storeWith(N);
    const claims = (await store.claimDue({ limit: N, leaseMs: 60_000, now: at(0) })).map((c) => ({
      id: c.id,
      leaseToken: c.leaseToken,
    }));
    expect(claims).toHaveLength(N);
    const port = 40_000 + (process.pid % 1000);
    const before = await liveHeap();
    for (const claim of claims) {
      // As the worker builds them: a new error text and a new empty headers object per attempt.
      const message = `connect ECONNREFUSED 127.0.0.1:${port}`;
      await store.recordAttempts({
        items: [
          {
            deliveryId: claim.id,
            leaseToken: claim.leaseToken,
            attempt: {
              startedAt: at(1),
              durationMs: 1,
              status: 0,
              ok: false,
              error: `${'connect_failed'}: ${message}`,
              responseBody: '',
              responseHeaders: {},
            },
            outcome: { state: 'failed' },
            now: at(2),
          },
        ],
      });
    }
    const perAttempt = ((await liveHeap()) - before) / N;
    expect(perAttempt).toBeLessThan(200);
    const log = await store.listAttempts({ scope: 's', deliveryId: claims[0]!.id, offset: 0, limit: null });
    expect(log.items[0]).toMatchObject({
      error: `connect_failed: connect ECONNREFUSED 127.0.0.1:${port}`,
      responseHeaders: {},
    });
  });

  it('keeps a queued delivery with a 600-byte body in under 600 bytes of heap (over 1 100 before the columns, the body alone 600)', async () => {
    const N = 20_000;
    const store = memoryStore();
    const hook = await store.insertWebhook({ scope: 's', fields: webhookFields(), now: at(0) });
    const before = await liveHeap();
    const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < N; i++) {
      const d = newDelivery(hook.id, {
        type: `order.type.${i % 10}`,
        request: {
          url: 'https://receiver.example/hook',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ order: `ORDER-${i}`, note: 'x'.repeat(560) }),
        },
      });
      await store.enqueue({ scope: 's', notificationId: `notification-${i}`, deliveries: [d], now: at(0) });
    }
    const perDelivery = ((await liveHeap()) - before) / N;
    expect(perDelivery).toBeLessThan(600);
    // The bodies are outside the heap, each once.
    const outside = (process.memoryUsage().arrayBuffers - arrayBuffersBefore) / N;
    expect(outside).toBeGreaterThan(590);
    expect(outside).toBeLessThan(1_000);
    expect(await store.outboxSummary({ now: at(0) })).toMatchObject({ pending: N });
  });

  it('does not grow while deliveries are claimed and given back again and again', async () => {
    const N = 5_000;
    const ROUNDS = 20;
    const { store } = await storeWith(N);
    const round = async (t: number) => {
      const claims = await store.claimDue({ limit: N, leaseMs: 60_000, now: at(t) });
      expect(claims).toHaveLength(N);
      for (const c of claims) {
        await store.releaseClaim({ deliveryId: c.id, leaseToken: c.leaseToken, now: at(t) });
      }
    };
    await round(0);
    const before = await liveHeap();
    for (let t = 1; t <= ROUNDS; t++) await round(t);
    // Each claim used to leave an entry in the due queue until its lease ran out (about 73 bytes).
    expect(((await liveHeap()) - before) / (N * ROUNDS)).toBeLessThan(8);
    expect(await store.outboxSummary({ now: at(ROUNDS) })).toMatchObject({ due: N, pending: N });
  });

  it('shares one frozen headers object between deliveries whose request headers are the same', async () => {
    const { store, webhookId } = await storeWith(0);
    const other = newDelivery(webhookId, {
      request: {
        url: 'https://receiver.example/hook',
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'x',
      },
    });
    const deliveries = [newDelivery(webhookId), newDelivery(webhookId), other, newDelivery(webhookId)];
    await store.enqueue({ scope: 's', notificationId: 'n', deliveries, now: at(0) });
    const claims = await store.claimDue({ limit: 4, leaseMs: 60_000, now: at(0) });
    const headers = claims.map((c) => c.request.headers);
    expect(headers.map((h) => h['content-type'])).toEqual([
      'application/json',
      'application/json',
      'text/plain',
      'application/json',
    ]);
    expect(headers[1]).toBe(headers[0]);
    expect(headers[2]).not.toBe(headers[0]);
    expect(headers.every((h) => Object.isFrozen(h))).toBe(true);
    // Reads still hand out copies.
    const read = await store.getDelivery({ scope: 's', id: deliveries[0]!.id });
    expect(read?.request.headers).not.toBe(headers[0]);
    expect(read?.request.headers).toEqual({ 'content-type': 'application/json' });
  });

  it('purges attempts anywhere in a delivery log and keeps the others newest first', async () => {
    const { store } = await storeWith(1);
    const starts = [30_000, 5_000, 40_000, 1_000, 50_000]; // not in time order
    for (const [i, start] of starts.entries()) {
      const [claim] = await store.claimDue({ limit: 1, leaseMs: 1_000, now: at(i * 100_000) });
      await store.recordAttempts({
        items: [
          {
            deliveryId: claim!.id,
            leaseToken: claim!.leaseToken,
            attempt: {
              startedAt: at(start),
              durationMs: 1,
              status: 503,
              ok: false,
              error: 'HTTP 503',
              responseBody: 'busy',
              responseHeaders: { 'retry-after': String(i) },
            },
            outcome: { state: 'pending', nextAttemptAt: at(i * 100_000 + 1) },
            now: at(i * 100_000),
          },
        ],
      });
    }
    const [delivery] = (await store.listDeliveries({ scope: 's', webhookId: 1, offset: 0, limit: null }))
      .items;
    const list = async () =>
      (await store.listAttempts({ scope: 's', deliveryId: delivery!.id, offset: 0, limit: null })).items;
    expect((await list()).map((a) => a.attemptNumber)).toEqual([5, 4, 3, 2, 1]);
    expect(await store.purgeAttempts({ before: at(10_000) })).toBe(2);
    const kept = await list();
    expect(kept.map((a) => [a.attemptNumber, a.startedAt.getTime() - at(0).getTime()])).toEqual([
      [5, 50_000],
      [3, 40_000],
      [1, 30_000],
    ]);
    expect(kept.map((a) => a.responseHeaders)).toEqual([
      { 'retry-after': '4' },
      { 'retry-after': '2' },
      { 'retry-after': '0' },
    ]);
    expect(kept.every((a) => a.deliveryId === delivery!.id && a.scope === 's' && a.webhookId === 1)).toBe(
      true,
    );
    expect(await store.purgeAttempts({ before: at(100_000) })).toBe(3);
    expect(await list()).toEqual([]);
  });
});
