// A webhook test under node:test, with no test framework beyond Node's own: the fake clock moves
// the retry schedule, the capture transport stands in for the receiver. docs/testing.md shows
// this file; CI runs it against the packed package (scripts/check-consumers.mjs) and against
// the source (test/testing/node-test.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryPolicies, WebhookRegistry } from 'hookline';
import { captureTransport, createFakeClock } from 'hookline/testing';

test('a failed delivery is retried 5 s later and then succeeds', async () => {
  const clock = createFakeClock({ now: new Date('2026-03-01T12:00:00Z') });
  const registry = new WebhookRegistry({ clock, retryPolicy: retryPolicies.pretix });
  let calls = 0;
  const transport = captureTransport({ respond: () => (++calls === 1 ? 503 : 200) });
  const worker = registry.worker({ transport });
  await registry.create('acme', { url: 'https://shop.example/hooks', eventTypes: ['order.paid'] });

  const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'order.paid', data: { id: 42 } });
  await worker.drain(); // the first attempt gets a 503
  assert.equal(transport.requests.length, 1);
  assert.equal((await registry.getDelivery('acme', deliveryIds[0])).state, 'pending');

  clock.advance(5_000); // pretix retries after 5 s: no waiting, the fake clock moves
  await worker.drain();
  assert.equal(transport.requests.length, 2);
  const [request] = transport.requests;
  assert.equal(request.url, 'https://shop.example/hooks');
  assert.equal(request.headers['webhook-id'], deliveryIds[0]);
  assert.deepEqual(JSON.parse(request.body).data, { id: 42 });
  assert.equal((await registry.getDelivery('acme', deliveryIds[0])).state, 'succeeded');
  await worker.stop();
});
