/**
 * stop({ timeoutMs }) keeps its timeout with the worker's own transport too: closing that
 * transport waits for requests still open, and a receiver that never answers must not hold
 * stop() up until the attempt's own timeout.
 */
import { afterEach, expect, it } from 'vitest';
import { memoryStore, WebhookRegistry } from '../../src/index.js';
import { holdRequests, type Receiver, startReceiver } from './receiver.js';

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

it('stop({ timeoutMs }) resolves with an attempt still held by the receiver, and gives it back', async () => {
  receiver = await startReceiver();
  const held = holdRequests(receiver, '/slow');
  const store = memoryStore();
  const registry = new WebhookRegistry({ store });
  await registry.create('acme', { url: held.url, eventTypes: ['pay'] });
  const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: {} });
  // The attempt's own deadline is far away: only the stop timeout can end stop().
  const worker = registry.worker({ ssrf: { allow: ['127.0.0.1'] }, timeoutMs: 600_000 });
  worker.start();
  await held.until(1);
  let stopped = false;
  await worker.stop({ timeoutMs: 10 }).then(() => {
    stopped = true;
  });
  // Resolved while the receiver still holds the request unanswered.
  expect(stopped).toBe(true);
  expect(held.hits()).toBe(1);
  const delivery = await registry.getDelivery('acme', deliveryIds[0] ?? '');
  expect(delivery.state).toBe('pending');
  const claimable = await store.claimDue({ limit: 10, leaseMs: 1000, now: new Date() });
  expect(claimable.map((c) => c.id)).toEqual(deliveryIds);
  held.answer(200);
});
