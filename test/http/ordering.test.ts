/**
 * The ordering extension of both dialects (`GET|PUT {webhook}/ordering`), the new fields of the
 * extension delivery JSON (`ordered`, `ordering_key`, `pauses_line`), and that the wire webhook
 * resources of pretix and Taler stay exactly as they were (no `ordering` key, and their own
 * writes keep the ordering as it is).
 */
import { describe, expect, it } from 'vitest';
import { pretixHandler, pretixOpenApi, talerHandler, talerOpenApi } from '../../src/http/index.js';
import { PRETIX_FIELDS } from '../../src/http/pretix/wire.js';
import { WebhookRegistry } from '../../src/index.js';
import { pretixCatalog, talerCatalog } from '../../src/matching/index.js';
import { authorize, type CallOptions, call, expectBody } from './helpers.js';

const PAID = 'pretix.event.order.paid';
const WEBHOOK = '/api/v1/organizers/orga/webhooks';

function pretix(options: { readWriteSplit?: boolean } = {}) {
  const registry = new WebhookRegistry({ catalog: pretixCatalog });
  const handler = pretixHandler(registry, { authorize, ...options });
  return { registry, handler };
}

describe('pretix: GET|PUT .../webhooks/{id}/ordering/', () => {
  it('reads and changes the ordering; on_failure omitted stays as it is', async () => {
    const { registry, handler } = pretix();
    const hook = await registry.create('orga', { url: 'https://receiver.example/h', eventTypes: [PAID] });
    const path = `${WEBHOOK}/${hook.id}/ordering/`;
    expectBody(await call(handler, 'GET', path), 200, { ordering: 'none', on_failure: 'continue' });
    // Without the trailing slash too, as every pretix path.
    expectBody(await call(handler, 'GET', path.slice(0, -1)), 200, {
      ordering: 'none',
      on_failure: 'continue',
    });

    const set = await call(handler, 'PUT', path, { body: { ordering: 'fifo' } });
    expectBody(set, 200, { ordering: 'fifo', on_failure: 'continue' });
    expect(set.headers.get('content-type')).toContain('application/json');
    expect(await registry.get('orga', hook.id)).toMatchObject({
      ordering: 'fifo',
      orderingOnFailure: 'continue',
    });

    expectBody(await call(handler, 'PUT', path, { body: { ordering: 'fifo', on_failure: 'pause' } }), 200, {
      ordering: 'fifo',
      on_failure: 'pause',
    });
    expectBody(await call(handler, 'PUT', path, { body: { ordering: 'none' } }), 200, {
      ordering: 'none',
      on_failure: 'pause',
    });
    expectBody(await call(handler, 'GET', path), 200, { ordering: 'none', on_failure: 'pause' });
    // The webhook's other fields are untouched.
    expect(await registry.get('orga', hook.id)).toMatchObject({
      url: 'https://receiver.example/h',
      eventTypes: [PAID],
      enabled: true,
    });
    // HEAD: GET without a body; OPTIONS lists the methods.
    const head = await call(handler, 'HEAD', path);
    expect({ status: head.status, text: head.text }).toEqual({ status: 200, text: '' });
    const options = await call(handler, 'OPTIONS', path);
    expect(options.status).toBe(200);
    expect(options.headers.get('allow')).toBe('GET, PUT, HEAD, OPTIONS');
    expectBody(await call(handler, 'POST', path, { body: { ordering: 'fifo' } }), 405, {
      detail: 'Method "POST" not allowed.',
    });
  });

  it('a bad body is 400 in pretix’s field-error shape, and changes nothing', async () => {
    const { registry, handler } = pretix();
    const hook = await registry.create('orga', { url: 'https://receiver.example/h', eventTypes: [PAID] });
    const path = `${WEBHOOK}/${hook.id}/ordering/`;
    const cases: [CallOptions, string[]][] = [
      [{ body: {} }, ['ordering']],
      [{ raw: '' }, ['ordering']],
      [{ body: { ordering: 'lifo' } }, ['ordering']],
      [{ body: { ordering: null } }, ['ordering']],
      [{ body: { ordering: 'fifo', on_failure: 'stop' } }, ['on_failure']],
      [{ body: { ordering: 'fifo', on_failure: null } }, ['on_failure']],
      [{ body: { ordering: 'lifo', on_failure: 'stop' } }, ['ordering', 'on_failure']],
      [{ body: { ordering: 'fifo', orderingOnFailure: 'pause' } }, ['non_field_errors']],
      [{ body: ['fifo'] }, ['non_field_errors']],
      [{ raw: '{"ordering":', headers: { 'content-type': 'application/json' } }, ['non_field_errors']],
      [{ raw: '{"ordering":"fifo"}', headers: { 'content-type': 'text/plain' } }, ['non_field_errors']],
    ];
    for (const [options, fields] of cases) {
      const result = await call(handler, 'PUT', path, options);
      expect({ status: result.status, options }).toEqual({ status: 400, options });
      expect(Object.keys(result.json as object)).toEqual(fields);
      for (const messages of Object.values(result.json as Record<string, unknown>)) {
        expect(messages).toEqual([expect.any(String)]);
      }
    }
    expect((await call(handler, 'PUT', path, { body: { ordering: 'lifo' } })).json).toEqual({
      ordering: ['ordering is required: one of "none", "fifo".'],
    });
    expect(await registry.get('orga', hook.id)).toMatchObject({
      ordering: 'none',
      orderingOnFailure: 'continue',
    });
  });

  it('unknown or foreign webhooks are 404, a foreign organizer 403, without write permission 403', async () => {
    const { registry, handler } = pretix();
    await registry.create('orga', { url: 'https://receiver.example/h', eventTypes: [PAID] });
    const theirs = await registry.create('orgb', { url: 'https://receiver.example/b', eventTypes: [PAID] });
    const notFound = { detail: 'Not found.' };
    for (const method of ['GET', 'PUT']) {
      const body = { body: { ordering: 'fifo' } };
      expectBody(await call(handler, method, `${WEBHOOK}/99/ordering/`, body), 404, notFound);
      expectBody(await call(handler, method, `${WEBHOOK}/abc/ordering/`, body), 404, notFound);
      expectBody(await call(handler, method, `${WEBHOOK}/${theirs.id}/ordering/`, body), 404, notFound);
      expect(
        (await call(handler, method, `/api/v1/organizers/orgb/webhooks/${theirs.id}/ordering/`, body)).status,
      ).toBe(403);
      // pretix needs the write permission for every method by default.
      expect(
        (await call(handler, method, `${WEBHOOK}/1/ordering/`, { ...body, token: 'tok-ro' })).status,
      ).toBe(403);
      expect((await call(handler, method, `${WEBHOOK}/1/ordering/`, { ...body, token: null })).status).toBe(
        401,
      );
    }
    // An unknown webhook is 404 whatever the body.
    expectBody(
      await call(handler, 'PUT', `${WEBHOOK}/99/ordering/`, { body: { ordering: 'lifo' } }),
      404,
      notFound,
    );
    expect((await registry.get('orgb', theirs.id)).ordering).toBe('none');
  });

  it('with readWriteSplit, reading needs webhooks-read and changing webhooks-write', async () => {
    const { registry, handler } = pretix({ readWriteSplit: true });
    const hook = await registry.create('orga', { url: 'https://receiver.example/h', eventTypes: [PAID] });
    const path = `${WEBHOOK}/${hook.id}/ordering/`;
    expectBody(await call(handler, 'GET', path, { token: 'tok-ro' }), 200, {
      ordering: 'none',
      on_failure: 'continue',
    });
    expect((await call(handler, 'PUT', path, { token: 'tok-ro', body: { ordering: 'fifo' } })).status).toBe(
      403,
    );
    expect((await registry.get('orga', hook.id)).ordering).toBe('none');
  });

  it('the pretix webhook resource is unchanged: no ordering key, and PUT or PATCH keep the ordering', async () => {
    const { registry, handler } = pretix();
    const created = await call(handler, 'POST', `${WEBHOOK}/`, {
      body: { target_url: 'https://receiver.example/h', action_types: [PAID], ordering: 'fifo' },
    });
    expect(created.status).toBe(201);
    expect(Object.keys(created.json as object)).toEqual([...PRETIX_FIELDS]);
    const { id } = created.json as { id: number };
    // The unknown field was ignored, as pretix ignores unknown fields.
    expect((await registry.get('orga', id)).ordering).toBe('none');
    const path = `${WEBHOOK}/${id}/`;
    const before = await call(handler, 'GET', path);
    await call(handler, 'PUT', `${WEBHOOK}/${id}/ordering/`, {
      body: { ordering: 'fifo', on_failure: 'pause' },
    });
    const after = await call(handler, 'GET', path);
    expect(after.text).toBe(before.text);
    expect(after.text).not.toContain('ordering');
    const list = await call(handler, 'GET', `${WEBHOOK}/`);
    expect(list.text).not.toContain('ordering');

    // PUT (a full update of pretix's fields) keeps the ordering, also with an `ordering` field in the body.
    const put = await call(handler, 'PUT', path, {
      body: {
        target_url: 'https://receiver.example/v2',
        action_types: [PAID],
        ordering: 'none',
        on_failure: 'continue',
      },
    });
    expect(put.status).toBe(200);
    expect(Object.keys(put.json as object)).toEqual([...PRETIX_FIELDS]);
    expect(await registry.get('orga', id)).toMatchObject({
      url: 'https://receiver.example/v2',
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    const patch = await call(handler, 'PATCH', path, { body: { comment: 'orders', ordering: 'none' } });
    expect(patch.status).toBe(200);
    expect(patch.text).not.toContain('ordering');
    expect(await registry.get('orga', id)).toMatchObject({
      comment: 'orders',
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    // DELETE (disable) keeps it too.
    expect((await call(handler, 'DELETE', path)).status).toBe(204);
    expectBody(await call(handler, 'GET', `${WEBHOOK}/${id}/ordering/`), 200, {
      ordering: 'fifo',
      on_failure: 'pause',
    });
  });

  it('deliveries carry ordered, ordering_key and pauses_line; a waiting one has next_attempt_at null', async () => {
    const { registry, handler } = pretix();
    const fifo = await registry.create('orga', {
      url: 'https://receiver.example/fifo',
      eventTypes: [PAID],
      ordering: 'fifo',
    });
    const free = await registry.create('orga', { url: 'https://receiver.example/free', eventTypes: [PAID] });
    await registry.emit({ scope: 'orga', type: PAID, event: 'democon', orderingKey: 'ABC12', data: {} });
    await registry.emit({ scope: 'orga', type: PAID, event: 'democon', orderingKey: 'ABC12', data: {} });
    const ordered = await call(handler, 'GET', `${WEBHOOK}/${fifo.id}/deliveries/`);
    expect(ordered.status).toBe(200);
    const [newest, oldest] = (ordered.json as { results: Record<string, unknown>[] }).results;
    expect(oldest).toMatchObject({
      ordered: true,
      ordering_key: 'ABC12',
      pauses_line: false,
      state: 'pending',
    });
    expect(typeof oldest?.next_attempt_at).toBe('string');
    expect(newest).toMatchObject({
      ordered: true,
      ordering_key: 'ABC12',
      pauses_line: false,
      next_attempt_at: null,
    });
    expect(Object.keys(newest ?? {})).toEqual([
      'id',
      'webhook',
      'notification_id',
      'type',
      'event',
      'state',
      'attempt_count',
      'next_attempt_at',
      'last_status',
      'last_error',
      'ordered',
      'ordering_key',
      'pauses_line',
      'created_at',
      'updated_at',
      'request',
    ]);
    const unordered = await call(handler, 'GET', `${WEBHOOK}/${free.id}/deliveries/`);
    for (const item of (unordered.json as { results: unknown[] }).results) {
      expect(item).toMatchObject({ ordered: false, ordering_key: null, pauses_line: false });
    }
    // A ping to a FIFO webhook is not ordered.
    const ping = await call(handler, 'POST', `${WEBHOOK}/${fifo.id}/ping/`);
    expect(ping.json).toMatchObject({
      ordered: false,
      ordering_key: null,
      pauses_line: false,
      state: 'pending',
    });
  });
});

describe('Taler: GET|PUT .../webhooks/{webhook_id}/ordering', () => {
  const auth = { token: null, headers: { authorization: 'Bearer tok-default' } };

  async function taler(defaultScope?: string) {
    const registry = new WebhookRegistry({ catalog: talerCatalog });
    const handler = talerHandler(registry, { authorize, ...(defaultScope ? { defaultScope } : {}) });
    const body = {
      webhook_id: 'w',
      event_type: 'pay',
      url: 'https://receiver.example/t',
      http_method: 'POST',
    };
    const headers = defaultScope ? { token: 'tok-a' } : auth;
    expect((await call(handler, 'POST', '/private/webhooks', { ...headers, body })).status).toBe(204);
    return { registry, handler, body };
  }

  it('reads and changes the ordering, for the default instance and below /instances', async () => {
    const { registry, handler } = await taler();
    expectBody(await call(handler, 'GET', '/private/webhooks/w/ordering', auth), 200, {
      ordering: 'none',
      on_failure: 'continue',
    });
    expectBody(
      await call(handler, 'PUT', '/private/webhooks/w/ordering', {
        ...auth,
        body: { ordering: 'fifo', on_failure: 'pause' },
      }),
      200,
      { ordering: 'fifo', on_failure: 'pause' },
    );
    expectBody(await call(handler, 'GET', '/instances/default/private/webhooks/w/ordering', auth), 200, {
      ordering: 'fifo',
      on_failure: 'pause',
    });
    expectBody(
      await call(handler, 'PUT', '/instances/default/private/webhooks/w/ordering', {
        ...auth,
        body: { ordering: 'none' },
      }),
      200,
      { ordering: 'none', on_failure: 'pause' },
    );
    expect(await registry.getByKey('default', 'w')).toMatchObject({
      ordering: 'none',
      orderingOnFailure: 'pause',
    });
    // Taler matches paths exactly: a trailing slash is no endpoint.
    expect((await call(handler, 'GET', '/private/webhooks/w/ordering/', auth)).json).toMatchObject({
      code: 21,
    });
    const options = await call(handler, 'OPTIONS', '/private/webhooks/w/ordering', auth);
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, PUT, HEAD, OPTIONS');
    expect((await call(handler, 'PATCH', '/private/webhooks/w/ordering', auth)).json).toMatchObject({
      code: 20,
    });
  });

  it('errors in Taler’s shape: bad body 400 code 26, unknown webhook or instance 404, refused 401', async () => {
    const { registry, handler } = await taler();
    for (const [body, detail] of [
      [{}, 'ordering'],
      [{ ordering: 'lifo' }, 'ordering'],
      [{ ordering: 'fifo', on_failure: 'stop' }, 'on_failure'],
    ] as const) {
      const result = await call(handler, 'PUT', '/private/webhooks/w/ordering', { ...auth, body });
      expect(result.status).toBe(400);
      expect(result.json).toMatchObject({ code: 26, detail });
    }
    const notJson = await call(handler, 'PUT', '/private/webhooks/w/ordering', {
      ...auth,
      raw: '{"ordering":',
      headers: { ...auth.headers, 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.json).toMatchObject({ code: 26 });
    for (const method of ['GET', 'PUT']) {
      const body = { body: { ordering: 'fifo' } };
      const unknown = await call(handler, method, '/private/webhooks/nope/ordering', { ...auth, ...body });
      expect(unknown.status).toBe(404);
      expect(unknown.json).toMatchObject({ code: 2019, detail: 'nope' });
      // Another instance does not have `w`.
      const other = await call(handler, method, '/instances/shop/private/webhooks/w/ordering', {
        ...auth,
        ...body,
      });
      expect(other.json).toMatchObject({ code: 2019 });
      const refused = await call(handler, method, '/private/webhooks/w/ordering', {
        ...body,
        token: 'tok-b',
      });
      expect(refused.status).toBe(401);
      expect(refused.json).toMatchObject({ code: 2015 });
    }
    expect((await registry.getByKey('default', 'w')).ordering).toBe('none');
  });

  it('reading needs webhooks-read, changing webhooks-write', async () => {
    const { handler } = await taler('orga');
    expectBody(await call(handler, 'GET', '/private/webhooks/w/ordering', { token: 'tok-ro' }), 200, {
      ordering: 'none',
      on_failure: 'continue',
    });
    const refused = await call(handler, 'PUT', '/private/webhooks/w/ordering', {
      token: 'tok-ro',
      body: { ordering: 'fifo' },
    });
    expect(refused.status).toBe(401);
    expectBody(
      await call(handler, 'PUT', '/private/webhooks/w/ordering', {
        token: 'tok-a',
        body: { ordering: 'fifo' },
      }),
      200,
      {
        ordering: 'fifo',
        on_failure: 'continue',
      },
    );
  });

  it('the Taler webhook resource is unchanged: no ordering key, and PATCH or a re-POST keep the ordering', async () => {
    const { registry, handler, body } = await taler();
    const before = await call(handler, 'GET', '/private/webhooks/w', auth);
    const list = await call(handler, 'GET', '/private/webhooks', auth);
    await call(handler, 'PUT', '/private/webhooks/w/ordering', {
      ...auth,
      body: { ordering: 'fifo', on_failure: 'pause' },
    });
    const after = await call(handler, 'GET', '/private/webhooks/w', auth);
    expect(after.text).toBe(before.text);
    expect(after.text).not.toContain('ordering');
    expect((await call(handler, 'GET', '/private/webhooks', auth)).text).toBe(list.text);
    // An identical re-POST is still identical (ordering is not part of Taler's content).
    expect((await call(handler, 'POST', '/private/webhooks', { ...auth, body })).status).toBe(204);
    const patched = await call(handler, 'PATCH', '/private/webhooks/w', {
      ...auth,
      // An `ordering` field is ignored like any unknown field.
      body: {
        event_type: 'refund',
        url: 'https://receiver.example/v2',
        http_method: 'PUT',
        ordering: 'none',
      },
    });
    expect(patched.status).toBe(204);
    expect(await registry.getByKey('default', 'w')).toMatchObject({
      eventTypes: ['refund'],
      url: 'https://receiver.example/v2',
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    expect((await call(handler, 'GET', '/private/webhooks/w', auth)).text).not.toContain('ordering');
  });

  it('deliveries carry the ordering fields', async () => {
    const { registry, handler } = await taler();
    await call(handler, 'PUT', '/private/webhooks/w/ordering', { ...auth, body: { ordering: 'fifo' } });
    await registry.emit({ scope: 'default', type: 'pay', orderingKey: 'order <1>', data: {} });
    const log = await call(handler, 'GET', '/private/webhooks/w/deliveries', auth);
    expect(log.json).toMatchObject({
      count: 1,
      deliveries: [{ webhook: 'w', ordered: true, ordering_key: 'order <1>', pauses_line: false }],
    });
  });
});

describe('OpenAPI: the ordering extension', () => {
  it('lists GET and PUT of {webhook}/ordering in both dialects, tagged as extensions', () => {
    const pretixPaths = pretixOpenApi({ basePath: '/api/v1' }).paths as Record<
      string,
      Record<string, unknown>
    >;
    const talerPaths = talerOpenApi({ basePath: '/taler' }).paths as Record<string, Record<string, unknown>>;
    for (const [paths, path] of [
      [pretixPaths, '/api/v1/organizers/{organizer}/webhooks/{id}/ordering/'],
      [talerPaths, '/taler/private/webhooks/{webhook_id}/ordering'],
      [talerPaths, '/taler/instances/{instance}/private/webhooks/{webhook_id}/ordering'],
    ] as const) {
      const item = paths[path] as Record<string, Record<string, unknown>>;
      expect(item, path).toBeDefined();
      for (const method of ['get', 'put']) {
        const operation = item[method] as {
          tags: string[];
          'x-hookline-extension': boolean;
          responses: object;
        };
        expect(operation.tags).toEqual(['hookline extensions']);
        expect(operation['x-hookline-extension']).toBe(true);
        expect(Object.keys(operation.responses)).toContain('200');
      }
      expect(Object.keys((item.put as { responses: object }).responses)).toContain('400');
    }
  });

  it('documents the new delivery fields and the ordering bodies; the wire webhooks have no ordering', () => {
    for (const doc of [pretixOpenApi(), talerOpenApi()]) {
      const schemas = (
        doc.components as { schemas: Record<string, { properties?: Record<string, unknown> }> }
      ).schemas;
      expect(Object.keys(schemas.Delivery?.properties ?? {})).toEqual(
        expect.arrayContaining(['ordered', 'ordering_key', 'pauses_line']),
      );
      expect(Object.keys(schemas.Ordering?.properties ?? {})).toEqual(['ordering', 'on_failure']);
      expect(Object.keys(schemas.OrderingRequest?.properties ?? {})).toEqual(['ordering', 'on_failure']);
      for (const name of [
        'Webhook',
        'WebhookInput',
        'WebhookPatch',
        'WebhookDetails',
        'WebhookAddDetails',
        'WebhookPatchDetails',
      ]) {
        expect(Object.keys(schemas[name]?.properties ?? {}), name).not.toContain('ordering');
      }
    }
  });
});
