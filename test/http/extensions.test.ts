import { describe, expect, it } from 'vitest';
import { pretixHandler, talerHandler } from '../../src/http/index.js';
import { WebhookRegistry } from '../../src/index.js';
import { pretixCatalog, talerCatalog } from '../../src/matching/index.js';
import { captureTransport, createFakeClock } from '../../src/testing/index.js';
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

describe('hookline extensions: recover and cancel', () => {
  const T0 = Date.parse('2026-01-01T00:00:00.000Z');

  /** A registry whose receivers fail (500, no retries), two webhooks of orga, one of orgb, each with failed deliveries. */
  async function failedSetup(catalog = pretixCatalog) {
    const clock = createFakeClock({ now: T0 });
    const registry = new WebhookRegistry({ catalog, clock, retryPolicy: { name: 'none', delaysMs: [] } });
    const transport = captureTransport({ respond: () => 500 });
    const worker = registry.worker({ transport });
    return { clock, registry, transport, worker };
  }

  it('pretix: recovers a webhook’s failed deliveries (dry run 200, then 202), then the scope’s; twice queues nothing', async () => {
    const { clock, registry, worker } = await failedSetup();
    const handler = pretixHandler(registry, { authorize });
    const hook = await registry.create('orga', { url: 'https://receiver.example/a', eventTypes: [PAID] });
    await registry.create('orga', { url: 'https://receiver.example/b', eventTypes: [PAID] });
    const foreign = await registry.create('orgb', { url: 'https://receiver.example/c', eventTypes: [PAID] });
    for (let i = 0; i < 2; i++)
      await registry.emit({ scope: 'orga', type: PAID, event: 'democon', data: { i } });
    await registry.emit({ scope: 'orgb', type: PAID, event: 'democon', data: {} });
    await worker.drain();
    await worker.stop();
    clock.advance(60_000);
    const since = new Date(T0).toISOString();
    const path = `/api/v1/organizers/orga/webhooks/${hook.id}/recover/`;

    expectBody(await call(handler, 'POST', path, { body: { since, dry_run: true } }), 200, {
      matched: 2,
      queued: 0,
      skipped: 0,
    });
    expectBody(
      await call(handler, 'POST', path, { body: { since, states: ['failed'], types: [PAID] } }),
      202,
      {
        matched: 2,
        queued: 2,
        skipped: 0,
      },
    );
    expectBody(await call(handler, 'POST', path, { body: { since } }), 202, {
      matched: 0,
      queued: 0,
      skipped: 0,
    });
    const scopePath = '/api/v1/organizers/orga/webhook-deliveries/recover/';
    expectBody(
      await call(handler, 'POST', scopePath, { body: { since, until: new Date(T0 + 30_000).toISOString() } }),
      202,
      {
        matched: 2,
        queued: 2,
        skipped: 0,
      },
    );
    expectBody(await call(handler, 'POST', scopePath, { body: { since } }), 202, {
      matched: 0,
      queued: 0,
      skipped: 0,
    });
    // orgb's failed delivery was never touched, and orga cannot reach it.
    expect((await registry.deliveries('orgb', foreign.id)).items.map((d) => d.state)).toEqual(['failed']);
    expectBody(
      await call(handler, 'POST', `/api/v1/organizers/orga/webhooks/${foreign.id}/recover/`, {
        body: { since },
      }),
      404,
      { detail: 'Not found.' },
    );
    expect(
      (
        await call(handler, 'POST', '/api/v1/organizers/orgb/webhook-deliveries/recover/', {
          body: { since },
        })
      ).status,
    ).toBe(403);
    expect((await call(handler, 'POST', scopePath, { body: { since }, token: 'tok-ro' })).status).toBe(403);
    expect((await registry.deliveries('orgb', foreign.id)).items.map((d) => d.state)).toEqual(['failed']);
  });

  it('pretix: bad recover bodies are 400 JSON errors, never 500', async () => {
    const { registry } = await failedSetup();
    const handler = pretixHandler(registry, { authorize });
    const hook = await registry.create('orga', { url: 'https://receiver.example/a', eventTypes: [PAID] });
    const since = new Date(T0 - 60_000).toISOString();
    const bodies: { body?: unknown; raw?: string; headers?: Record<string, string> }[] = [
      { body: {} },
      { raw: '' },
      { body: { since: 'yesterday' } },
      { body: { since: '2026-01-01' } },
      { body: { since: 1767225600000 } },
      { body: { since, until: new Date(T0 - 120_000).toISOString() } },
      { body: { since: new Date(T0 + 60_000).toISOString() } },
      { body: { since, states: ['succeeded'] } },
      { body: { since, states: [] } },
      { body: { since, states: 'failed' } },
      { body: { since, types: ['order.*'] } },
      { body: { since, types: [1] } },
      { body: { since, dry_run: 'yes' } },
      { body: { since, webhook: 2 } },
      { body: [since] },
      { raw: '{"since":', headers: { 'content-type': 'application/json' } },
      { raw: `{"since":"${since}"}`, headers: { 'content-type': 'text/plain' } },
      {
        raw: JSON.stringify({ since, types: Array(3000).fill('pretix.event.order.paid.with.a.long.name') }),
        headers: { 'content-type': 'application/json' },
      },
    ];
    for (const options of bodies) {
      for (const path of [
        `/api/v1/organizers/orga/webhooks/${hook.id}/recover/`,
        '/api/v1/organizers/orga/webhook-deliveries/recover/',
      ]) {
        const result = await call(handler, 'POST', path, options);
        expect({ status: result.status, body: options }).toEqual({ status: 400, body: options });
        expect(result.headers.get('content-type')).toContain('application/json');
        expect(Object.keys(result.json as object).length).toBeGreaterThan(0);
      }
    }
  });

  it('pretix: cancel stops a pending delivery (200), then 409; another organizer’s delivery is 404', async () => {
    const { registry } = await failedSetup();
    const handler = pretixHandler(registry, { authorize });
    const hook = await registry.create('orga', { url: 'https://receiver.example/a', eventTypes: [PAID] });
    const other = await registry.create('orgb', { url: 'https://receiver.example/b', eventTypes: [PAID] });
    const id = (
      (await call(handler, 'POST', `/api/v1/organizers/orga/webhooks/${hook.id}/ping/`)).json as {
        id: string;
      }
    ).id;
    const theirs = (
      (await call(handler, 'POST', `/api/v1/organizers/orgb/webhooks/${other.id}/ping/`, { token: 'tok-b' }))
        .json as {
        id: string;
      }
    ).id;
    expectBody(
      await call(handler, 'POST', `/api/v1/organizers/orga/webhook-deliveries/${theirs}/cancel/`),
      404,
      {
        detail: 'Not found.',
      },
    );
    expect((await registry.getDelivery('orgb', theirs)).state).toBe('pending');
    expect(
      (
        await call(handler, 'POST', `/api/v1/organizers/orga/webhook-deliveries/${id}/cancel/`, {
          body: { reason: 7 },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call(handler, 'POST', `/api/v1/organizers/orga/webhook-deliveries/${id}/cancel/`, {
          body: { why: 'x' },
        })
      ).status,
    ).toBe(400);
    const canceled = await call(handler, 'POST', `/api/v1/organizers/orga/webhook-deliveries/${id}/cancel/`, {
      body: { reason: 'receiver retired' },
    });
    expect(canceled.status).toBe(200);
    expect(canceled.json).toMatchObject({
      id,
      webhook: hook.id,
      state: 'canceled',
      last_error: 'receiver retired',
      next_attempt_at: null,
    });
    const again = await call(handler, 'POST', `/api/v1/organizers/orga/webhook-deliveries/${id}/cancel/`);
    expect(again.status).toBe(409);
    expect(Object.keys(again.json as object)).toEqual(['detail']);
    expectBody(
      await call(handler, 'POST', '/api/v1/organizers/orga/webhook-deliveries/msg_nope/cancel/'),
      404,
      {
        detail: 'Not found.',
      },
    );
  });

  it('Taler: recover by webhook_id and for the instance, cancel, and errors in Taler’s shape', async () => {
    const { clock, registry, worker } = await failedSetup(talerCatalog);
    const handler = talerHandler(registry, { authorize });
    const auth = { token: null, headers: { authorization: 'Bearer tok-default' } };
    await call(handler, 'POST', '/private/webhooks', {
      ...auth,
      body: { webhook_id: 'w', event_type: 'pay', url: 'https://receiver.example/t', http_method: 'POST' },
    });
    await registry.emit({ scope: 'default', type: 'pay', data: {} });
    await worker.drain();
    await worker.stop();
    clock.advance(1_000);
    const since = new Date(T0).toISOString();
    expectBody(
      await call(handler, 'POST', '/private/webhooks/w/recover', { ...auth, body: { since, dry_run: true } }),
      200,
      {
        matched: 1,
        queued: 0,
        skipped: 0,
      },
    );
    expectBody(
      await call(handler, 'POST', '/private/webhook-deliveries/recover', { ...auth, body: { since } }),
      202,
      {
        matched: 1,
        queued: 1,
        skipped: 0,
      },
    );
    expect(
      (await call(handler, 'POST', '/private/webhooks/nope/recover', { ...auth, body: { since } })).json,
    ).toMatchObject({
      code: 2019,
    });
    const bad = await call(handler, 'POST', '/private/webhooks/w/recover', {
      ...auth,
      body: { since: 'soon' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 26 });
    expect(
      (
        await call(handler, 'POST', '/instances/shop/private/webhook-deliveries/recover', {
          ...auth,
          body: { since },
        })
      ).json,
    ).toMatchObject({
      matched: 0,
    });
    // The recovered delivery is pending again: cancel it, then a second cancel conflicts.
    const [delivery] = (await registry.deliveries('default', (await registry.getByKey('default', 'w')).id))
      .items;
    const id = delivery?.id as string;
    const canceled = await call(handler, 'POST', `/private/webhook-deliveries/${id}/cancel`, auth);
    expect(canceled.status).toBe(200);
    expect(canceled.json).toMatchObject({ id, webhook: 'w', state: 'canceled', last_error: 'canceled' });
    const again = await call(handler, 'POST', `/private/webhook-deliveries/${id}/cancel`, auth);
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ code: 26 });
    expect(
      (await call(handler, 'POST', `/instances/shop/private/webhook-deliveries/${id}/cancel`, auth)).json,
    ).toMatchObject({
      code: 2019,
    });
  });
});
