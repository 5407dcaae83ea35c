import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pretixCatalog, retryPolicies, verifyWebhook, WebhookRegistry } from '../../src/index.js';
import { createFakeClock } from '../../src/testing/index.js';
import { type Receiver, startReceiver } from './receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  receiver.route('/ok', (_req, res) => res.end('thanks'));
  receiver.route('/gone', (_req, res) => {
    res.writeHead(410);
    res.end('gone');
  });
  let flaky = 0;
  receiver.route('/flaky', (_req, res) => {
    flaky += 1;
    res.writeHead(flaky <= 2 ? 500 : 200);
    res.end(flaky <= 2 ? 'not yet' : 'ok');
  });
});
afterAll(() => receiver.close());

function pretixRegistry() {
  const clock = createFakeClock({ now: Date.now() });
  const registry = new WebhookRegistry({
    catalog: pretixCatalog,
    payloadStyle: 'pretix',
    retryPolicy: retryPolicies.pretix,
    clock,
  });
  const worker = registry.worker({ ssrf: { allow: ['127.0.0.1'] }, timeoutMs: 5_000 });
  return { clock, registry, worker };
}

describe('end to end with a real receiver (pretix cases)', () => {
  it('sends the exact pretix body to a wildcard webhook, and nothing to disabled or other-event webhooks', async () => {
    const { registry, worker } = pretixRegistry();
    const before = receiver.received.length;
    const wildcard = await registry.create('bigevents', {
      url: receiver.url('/ok'),
      eventTypes: ['pretix.event.order.changed.*'],
      allEvents: false,
      limitEvents: ['democon'],
    });
    await registry.create('bigevents', {
      url: receiver.url('/ok?disabled'),
      eventTypes: ['pretix.event.order.changed.*'],
      enabled: false,
    });
    await registry.create('bigevents', {
      url: receiver.url('/ok?other-event'),
      eventTypes: ['pretix.event.order.changed.*'],
      allEvents: false,
      limitEvents: ['otherfest'],
    });
    await registry.create('otherorg', {
      url: receiver.url('/ok?other-scope'),
      eventTypes: ['pretix.event.order.changed.*'],
    });
    const emitted = await registry.emit({
      id: 'notif-1',
      scope: 'bigevents',
      type: 'pretix.event.order.changed.item',
      event: 'democon',
      data: { code: 'ABC12' },
    });
    expect(emitted.deliveries).toBe(1);
    await worker.drain();
    await worker.stop();
    const got = receiver.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]!.url).toBe('/ok');
    expect(got[0]!.method).toBe('POST');
    expect(got[0]!.headers['content-type']).toBe('application/json');
    expect(got[0]!.headers['user-agent']).toMatch(/^hookline\//);
    expect(JSON.parse(got[0]!.body.toString('utf8'))).toEqual({
      notification_id: 'notif-1',
      organizer: 'bigevents',
      event: 'democon',
      code: 'ABC12',
      action: 'pretix.event.order.changed.item',
    });
    const [delivery] = (await registry.deliveries('bigevents', wildcard.id)).items;
    expect(delivery).toMatchObject({ state: 'succeeded', lastStatus: 200 });
    const attempts = await registry.attempts('bigevents', delivery!.id);
    expect(attempts.items[0]).toMatchObject({
      status: 200,
      ok: true,
      responseBody: 'thanks',
      attemptNumber: 1,
    });
  });

  it('disables the webhook on 410', async () => {
    const { registry, worker } = pretixRegistry();
    const hook = await registry.create('bigevents', {
      url: receiver.url('/gone'),
      eventTypes: ['pretix.event.order.paid'],
    });
    await registry.emit({ scope: 'bigevents', type: 'pretix.event.order.paid', event: 'democon', data: {} });
    await worker.drain();
    await worker.stop();
    expect(await registry.get('bigevents', hook.id)).toMatchObject({
      enabled: false,
      disabledReason: 'gone',
    });
  });

  it('retries on the pretix schedule until the receiver accepts, with the same notification_id', async () => {
    const { clock, registry, worker } = pretixRegistry();
    const before = receiver.received.length;
    const hook = await registry.create('bigevents', {
      url: receiver.url('/flaky'),
      eventTypes: ['pretix.event.order.paid'],
    });
    await registry.emit({
      id: 'n-flaky',
      scope: 'bigevents',
      type: 'pretix.event.order.paid',
      event: 'democon',
      data: {},
    });
    await worker.drain();
    clock.advance(5_000);
    await worker.drain();
    clock.advance(30_000);
    await worker.drain();
    await worker.stop();
    const got = receiver.received.slice(before);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => JSON.parse(r.body.toString('utf8')).notification_id))).toEqual(
      new Set(['n-flaky']),
    );
    const [delivery] = (await registry.deliveries('bigevents', hook.id)).items;
    expect(delivery).toMatchObject({ state: 'succeeded', attemptCount: 3 });
  });

  it('signs with the webhook secret; signatures verify with verifyWebhook and the reference library', async () => {
    const registry = new WebhookRegistry();
    const worker = registry.worker({ ssrf: { allow: ['127.0.0.1'] } });
    const before = receiver.received.length;
    await registry.create('default', {
      url: receiver.url('/ok'),
      eventTypes: ['pay'],
      secrets: [SECRET],
      headerTemplate: 'X-Taler-Order: {{order_id}}',
      bodyTemplate: '{"amount":"{{contract_terms.amount}}"}',
    });
    await registry.emit({
      scope: 'default',
      type: 'pay',
      data: { order_id: '2025.123-01ABC', contract_terms: { amount: 'KUDOS:5' } },
    });
    await worker.drain();
    await worker.stop();
    const [got] = receiver.received.slice(before);
    expect(got!.body.toString('utf8')).toBe('{"amount":"KUDOS:5"}');
    expect(got!.headers['x-taler-order']).toBe('2025.123-01ABC');
    const headers = Object.fromEntries(Object.entries(got!.headers).map(([k, v]) => [k, String(v)]));
    expect(verifyWebhook({ body: got!.body.toString('utf8'), headers, secrets: [SECRET] }).id).toMatch(
      /^msg_/,
    );
    expect(new StandardWebhook(SECRET).verify(got!.body.toString('utf8'), headers)).toEqual({
      amount: 'KUDOS:5',
    });
  });

  it('blocks loopback targets by default and records the blocked attempt', async () => {
    const registry = new WebhookRegistry({ retryPolicy: { name: 'once', delaysMs: [] } });
    const worker = registry.worker();
    const before = receiver.received.length;
    const hook = await registry.create('acme', { url: receiver.url('/ok'), eventTypes: ['pay'] });
    await registry.emit({ scope: 'acme', type: 'pay', data: {} });
    await worker.drain();
    await worker.stop();
    expect(receiver.received.length).toBe(before);
    const [delivery] = (await registry.deliveries('acme', hook.id)).items;
    expect(delivery).toMatchObject({ state: 'failed', lastStatus: 0 });
    expect(delivery!.lastError).toMatch(/^ssrf_blocked/);
  });
});
