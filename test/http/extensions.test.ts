import { describe, expect, it } from 'vitest';
import { pretixHandler, talerHandler } from '../../src/http/index.js';
import { WebhookRegistry } from '../../src/index.js';
import { pretixCatalog, talerCatalog } from '../../src/matching/index.js';
import { captureTransport } from '../../src/testing/index.js';
import { authorize, call, expectBody } from './helpers.js';

const PAID = 'pretix.event.order.paid';

describe('hookline extensions (pretix paths)', () => {
  async function setup() {
    const registry = new WebhookRegistry({ catalog: pretixCatalog });
    const handler = pretixHandler(registry, { authorize });
    const hook = await registry.create('orga', { url: 'https://receiver.example/h', eventTypes: [PAID] });
    const other = await registry.create('orgb', { url: 'https://receiver.example/b', eventTypes: [PAID] });
    return { registry, handler, hook, other };
  }

  it('ping queues a test delivery (202) that the delivery log lists', async () => {
    const { handler } = await setup();
    const ping = await call(handler, 'POST', '/api/v1/organizers/orga/webhooks/1/ping/');
    expect(ping.status).toBe(202);
    const delivery = ping.json as { id: string; webhook: number; state: string; request: { url: string } };
    expect(delivery).toMatchObject({
      webhook: 1,
      state: 'pending',
      request: { url: 'https://receiver.example/h' },
    });
    const log = await call(handler, 'GET', '/api/v1/organizers/orga/webhooks/1/deliveries/');
    expect(log.status).toBe(200);
    expect(log.json).toMatchObject({ count: 1, next: null, previous: null, results: [{ id: delivery.id }] });
    const attempts = await call(
      handler,
      'GET',
      `/api/v1/organizers/orga/webhook-deliveries/${delivery.id}/attempts/`,
    );
    expectBody(attempts, 200, { count: 0, next: null, previous: null, results: [] });
    // A pending delivery cannot be redelivered yet: 409 with the registry's explanation.
    const again = await call(
      handler,
      'POST',
      `/api/v1/organizers/orga/webhook-deliveries/${delivery.id}/redeliver/`,
    );
    expect(again.status).toBe(409);
    expect(Object.keys(again.json as object)).toEqual(['detail']);
  });

  it('after the worker sends it, lists the attempt and redelivers (202), and the worker sends it again', async () => {
    const { registry, handler } = await setup();
    const transport = captureTransport({ respond: () => 200 });
    const worker = registry.worker({ transport });
    const ping = await call(handler, 'POST', '/api/v1/organizers/orga/webhooks/1/ping/');
    const id = (ping.json as { id: string }).id;
    await worker.drain();
    const attempts = await call(handler, 'GET', `/api/v1/organizers/orga/webhook-deliveries/${id}/attempts/`);
    expect(attempts.status).toBe(200);
    expect(attempts.json).toMatchObject({ count: 1, results: [{ status: 200, ok: true }] });
    const again = await call(handler, 'POST', `/api/v1/organizers/orga/webhook-deliveries/${id}/redeliver/`);
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ id, state: 'pending' });
    await worker.drain();
    await worker.stop();
    expect(transport.requests.map((r) => r.headers['webhook-id'] ?? r.url)).toHaveLength(2);
    const log = await call(handler, 'GET', `/api/v1/organizers/orga/webhook-deliveries/${id}/attempts/`);
    expect(log.json).toMatchObject({ count: 2 });
  });

  it('is scoped: another organizer’s webhooks and deliveries are 404 (or 403 for a foreign organizer)', async () => {
    const { handler, other } = await setup();
    const ping = await call(handler, 'POST', `/api/v1/organizers/orgb/webhooks/${other.id}/ping/`, {
      token: 'tok-b',
    });
    const id = (ping.json as { id: string }).id;
    expectBody(await call(handler, 'GET', `/api/v1/organizers/orga/webhooks/${other.id}/deliveries/`), 404, {
      detail: 'Not found.',
    });
    expectBody(await call(handler, 'POST', `/api/v1/organizers/orga/webhooks/${other.id}/ping/`), 404, {
      detail: 'Not found.',
    });
    expectBody(
      await call(handler, 'GET', `/api/v1/organizers/orga/webhook-deliveries/${id}/attempts/`),
      404,
      { detail: 'Not found.' },
    );
    expectBody(
      await call(handler, 'POST', `/api/v1/organizers/orga/webhook-deliveries/${id}/redeliver/`),
      404,
      { detail: 'Not found.' },
    );
    expect(
      (await call(handler, 'GET', `/api/v1/organizers/orgb/webhook-deliveries/${id}/attempts/`)).status,
    ).toBe(403);
    expect(
      (await call(handler, 'GET', '/api/v1/organizers/orga/webhooks/1/deliveries/', { token: null })).status,
    ).toBe(401);
    expectBody(await call(handler, 'GET', '/api/v1/organizers/orga/webhooks/1/ping/'), 405, {
      detail: 'Method "GET" not allowed.',
    });
  });
});

describe('hookline extensions (Taler paths)', () => {
  it('ping, delivery log, attempts and redeliver by webhook_id', async () => {
    const registry = new WebhookRegistry({ catalog: talerCatalog });
    const handler = talerHandler(registry, { authorize });
    const auth = { token: null, headers: { authorization: 'Bearer tok-default' } };
    await call(handler, 'POST', '/private/webhooks', {
      ...auth,
      body: { webhook_id: 'w', event_type: 'pay', url: 'https://receiver.example/t', http_method: 'POST' },
    });
    const ping = await call(handler, 'POST', '/private/webhooks/w/ping', auth);
    expect(ping.status).toBe(202);
    const id = (ping.json as { id: string }).id;
    expect(ping.json).toMatchObject({ webhook: 'w' });
    expect((await call(handler, 'GET', '/private/webhooks/w/deliveries', auth)).json).toMatchObject({
      count: 1,
      deliveries: [{ id, webhook: 'w' }],
    });
    expectBody(await call(handler, 'GET', `/private/webhook-deliveries/${id}/attempts`, auth), 200, {
      count: 0,
      attempts: [],
    });
    const again = await call(handler, 'POST', `/private/webhook-deliveries/${id}/redeliver`, auth);
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ code: 26 });
    expect((await call(handler, 'GET', '/private/webhooks/nope/deliveries', auth)).json).toMatchObject({
      code: 2019,
    });
    expect(
      (await call(handler, 'GET', `/instances/shop/private/webhook-deliveries/${id}/attempts`, auth)).json,
    ).toMatchObject({
      code: 2019,
    });
    expect((await call(handler, 'GET', '/private/webhooks/w/deliveries?page=x', auth)).json).toMatchObject({
      code: 26,
      detail: 'page',
    });
  });
});
