import { describe, expect, it, vi } from 'vitest';
import { isUnmatched, type TalerHandlerOptions, talerHandler } from '../../src/http/index.js';
import { WebhookRegistry } from '../../src/index.js';
import { talerCatalog } from '../../src/matching/index.js';
import { authorize, type CallOptions, expectBody, ORIGIN, call as rawCall } from './helpers.js';

const HINTS = {
  22: "The JSON in the client's request was malformed (generic parse error).",
  26: 'A parameter in the request was malformed.',
  2015: 'The merchant refused the request due to lack of authorization.',
  2000: 'The backend could not find the merchant instance specified in the request.',
  2019: 'The backend could not find the webhook(id) because it is not exist.',
  2900: 'The webhook ID elready exists.',
  32: 'The body is too large to be permissible for the endpoint.',
  20: 'The HTTP method used is invalid for this endpoint.',
  21: 'There is no endpoint defined for the URL provided by the client.',
} as const;

function setup(options: Partial<TalerHandlerOptions> = {}) {
  const registry = new WebhookRegistry({ catalog: talerCatalog });
  const handler = talerHandler(registry, {
    authorize,
    scopeExists: (scope) => ['default', 'shop', 'orga'].includes(scope),
    ...options,
  });
  const call = (method: string, path: string, opts: CallOptions = {}) => {
    const token = opts.token === undefined ? 'tok-default' : opts.token;
    return rawCall(handler, method, path, {
      ...opts,
      token: null,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...opts.headers },
    });
  };
  return { registry, handler, call };
}

const HOOK = {
  webhook_id: 'pay-hook',
  event_type: 'pay',
  url: 'https://receiver.example/pay',
  http_method: 'POST',
  header_template: 'X-Taler-Order: {{order_id}}',
  body_template: '{"amount":"{{contract_terms.amount}}"}',
};
const PATH = '/private/webhooks';

describe('taler: create, read, list', () => {
  it('POST → 204 with an empty body; GET one returns it without webhook_id', async () => {
    const { call } = setup();
    const created = await call('POST', PATH, { body: HOOK });
    expect(created.status).toBe(204);
    expect(created.text).toBe('');
    const { webhook_id: _id, ...details } = HOOK;
    expectBody(await call('GET', `${PATH}/pay-hook`), 200, details);
  });

  it('omits absent templates instead of returning null (null in the body counts as absent)', async () => {
    const { call } = setup();
    await call('POST', PATH, { body: { ...HOOK, header_template: null, body_template: undefined } });
    expectBody(await call('GET', `${PATH}/pay-hook`), 200, {
      event_type: 'pay',
      url: HOOK.url,
      http_method: 'POST',
    });
  });

  it('GET list → {"webhooks": [{webhook_id, event_type}]}, and {"webhooks": []} when empty', async () => {
    const { call } = setup();
    expectBody(await call('GET', PATH), 200, { webhooks: [] });
    await call('POST', PATH, { body: HOOK });
    await call('POST', PATH, { body: { ...HOOK, webhook_id: 'refunds', event_type: 'refund' } });
    expectBody(await call('GET', PATH), 200, {
      webhooks: [
        { webhook_id: 'pay-hook', event_type: 'pay' },
        { webhook_id: 'refunds', event_type: 'refund' },
      ],
    });
  });

  it('identical re-POST → 204; different content → 409 code 2900', async () => {
    const { call } = setup();
    await call('POST', PATH, { body: HOOK });
    expect((await call('POST', PATH, { body: HOOK })).status).toBe(204);
    expect((await call('POST', PATH, { body: { ...HOOK, http_method: 'post' } })).status).toBe(204);
    expectBody(await call('POST', PATH, { body: { ...HOOK, url: 'https://other.example/' } }), 409, {
      code: 2900,
      hint: HINTS[2900],
      detail: 'pay-hook',
    });
    expectBody(await call('POST', PATH, { body: { ...HOOK, body_template: undefined } }), 409, {
      code: 2900,
      hint: HINTS[2900],
      detail: 'pay-hook',
    });
  });

  it('serves other instances under /instances/{id}; /instances/default is the default instance', async () => {
    const { call } = setup();
    expect((await call('POST', `/instances/shop${PATH}`, { body: HOOK })).status).toBe(204);
    expectBody(await call('GET', PATH), 200, { webhooks: [] });
    expect((await call('GET', `/instances/shop${PATH}/pay-hook`)).status).toBe(200);
    await call('POST', PATH, { body: HOOK });
    expect((await call('GET', `/instances/default${PATH}/pay-hook`)).status).toBe(200);
  });

  it('a custom defaultScope and basePath', async () => {
    const { call } = setup({ defaultScope: 'shop', basePath: '/taler' });
    await call('POST', `/taler${PATH}`, { body: HOOK });
    expect((await call('GET', `/taler/instances/shop${PATH}/pay-hook`)).status).toBe(200);
    expect((await call('GET', PATH)).status).toBe(404);
  });
});

describe('taler: PATCH and DELETE', () => {
  it('PATCH → 204; omitted templates are cleared', async () => {
    const { call } = setup();
    await call('POST', PATH, { body: HOOK });
    const patch = {
      event_type: 'refund',
      url: 'https://receiver.example/r',
      http_method: 'PUT',
      body_template: '{}',
    };
    const result = await call('PATCH', `${PATH}/pay-hook`, { body: patch });
    expect(result.status).toBe(204);
    expect(result.text).toBe('');
    expectBody(await call('GET', `${PATH}/pay-hook`), 200, patch);
  });

  it('PATCH needs event_type, url and http_method (400 code 22 naming the field)', async () => {
    const { call } = setup();
    await call('POST', PATH, { body: HOOK });
    expectBody(
      await call('PATCH', `${PATH}/pay-hook`, { body: { url: 'https://x.example/', http_method: 'POST' } }),
      400,
      {
        code: 22,
        hint: HINTS[22],
        field: 'event_type',
      },
    );
    expectBody(
      await call('PATCH', `${PATH}/pay-hook`, { body: { event_type: 'pay', url: 5, http_method: 'POST' } }),
      400,
      {
        code: 22,
        hint: HINTS[22],
        field: 'url',
      },
    );
  });

  it('PATCH or GET of an unknown webhook → 404 code 2019', async () => {
    const { call } = setup();
    const patch = { event_type: 'pay', url: 'https://x.example/', http_method: 'POST' };
    expectBody(await call('PATCH', `${PATH}/nope`, { body: patch }), 404, {
      code: 2019,
      hint: HINTS[2019],
      detail: 'nope',
    });
    expectBody(await call('GET', `${PATH}/nope`), 404, { code: 2019, hint: HINTS[2019], detail: 'nope' });
    expectBody(await call('DELETE', `${PATH}/nope`), 404, { code: 2019, hint: HINTS[2019], detail: 'nope' });
    expect((await call('GET', `${PATH}/${'x'.repeat(300)}`)).json).toMatchObject({ code: 2019 });
  });

  it('DELETE → 204 and the webhook is gone', async () => {
    const { call, registry } = setup();
    await call('POST', PATH, { body: HOOK });
    const result = await call('DELETE', `${PATH}/pay-hook`);
    expect(result.status).toBe(204);
    expect(result.text).toBe('');
    expect((await call('GET', `${PATH}/pay-hook`)).status).toBe(404);
    expect((await registry.list('default')).count).toBe(0);
    expect((await call('POST', PATH, { body: { ...HOOK, url: 'https://new.example/' } })).status).toBe(204);
  });

  it('DELETE drops the webhook’s pending deliveries', async () => {
    const { call, registry } = setup();
    await call('POST', PATH, { body: HOOK });
    const hook = await registry.getByKey('default', 'pay-hook');
    const { deliveryIds } = await registry.emit({
      scope: 'default',
      type: HOOK.event_type,
      data: { order_id: 'A-1' },
    });
    expect(deliveryIds).toHaveLength(1);
    expect((await call('DELETE', `${PATH}/pay-hook`)).status).toBe(204);
    expect(await registry.getDelivery('default', deliveryIds[0]!)).toMatchObject({
      webhookId: hook.id,
      state: 'canceled',
      lastError: 'webhook removed',
    });
  });
});

describe('taler: errors', () => {
  it('malformed bodies → 400 code 22', async () => {
    const { call } = setup();
    const json = { 'content-type': 'application/json' };
    expectBody(await call('POST', PATH, { raw: '{nope', headers: json }), 400, { code: 22, hint: HINTS[22] });
    expectBody(await call('POST', PATH, { raw: '', headers: json }), 400, { code: 22, hint: HINTS[22] });
    expectBody(await call('POST', PATH, { body: [1] }), 400, {
      code: 22,
      hint: HINTS[22],
      field: 'webhook_id',
    });
    expectBody(await call('POST', PATH, { body: { ...HOOK, http_method: 3 } }), 400, {
      code: 22,
      hint: HINTS[22],
      field: 'http_method',
    });
    expectBody(await call('POST', PATH, { body: { ...HOOK, header_template: 1 } }), 400, {
      code: 22,
      hint: HINTS[22],
      field: 'header_template',
    });
    const text = await call('POST', PATH, {
      raw: JSON.stringify(HOOK),
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.json).toMatchObject({ code: 22, hint: HINTS[22] });
  });

  it('invalid values → 400 code 26 naming the field in detail', async () => {
    const { call } = setup();
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'not a url' }, 'url'],
      [{ event_type: 'paid' }, 'event_type'],
      [{ http_method: 'BREW' }, 'http_method'],
      [{ header_template: '{{#open}}' }, 'header_template'],
      [{ body_template: '{{unterminated' }, 'body_template'],
      [{ webhook_id: '' }, 'webhook_id'],
    ];
    for (const [change, field] of cases) {
      expectBody(await call('POST', PATH, { body: { ...HOOK, ...change } }), 400, {
        code: 26,
        hint: HINTS[26],
        detail: field,
      });
    }
  });

  it('413 code 32 over maxBodyBytes', async () => {
    const { call } = setup({ maxBodyBytes: 64 });
    expectBody(await call('POST', PATH, { body: HOOK }), 413, { code: 32, hint: HINTS[32] });
  });

  it('401 code 2015 without credentials, with a bad token, or without permission', async () => {
    const { call } = setup();
    await call('POST', PATH, { body: HOOK });
    const unauthorized = { code: 2015, hint: HINTS[2015], detail: "Check 'Authorization' header" };
    expectBody(await call('GET', PATH, { token: null }), 401, unauthorized);
    expectBody(await call('GET', PATH, { token: 'wrong' }), 401, unauthorized);
    expectBody(await call('GET', `/instances/orga${PATH}`), 401, unauthorized);
    expectBody(await call('DELETE', `/instances/orga${PATH}/pay-hook`), 401, unauthorized);
  });

  it('GET needs webhooks-read, the rest webhooks-write', async () => {
    const { call } = setup();
    await call('POST', `/instances/orga${PATH}`, { body: HOOK, token: 'tok-a' });
    expect((await call('GET', `/instances/orga${PATH}`, { token: 'tok-ro' })).status).toBe(200);
    expect((await call('GET', `/instances/orga${PATH}/pay-hook`, { token: 'tok-ro' })).status).toBe(200);
    expect((await call('DELETE', `/instances/orga${PATH}/pay-hook`, { token: 'tok-ro' })).status).toBe(401);
    expect((await call('POST', `/instances/orga${PATH}`, { token: 'tok-ro', body: HOOK })).status).toBe(401);
  });

  it("one instance cannot see or touch another's webhooks", async () => {
    const { call, registry } = setup();
    await call('POST', `/instances/orga${PATH}`, { body: HOOK, token: 'tok-a' });
    expectBody(await call('GET', `${PATH}/pay-hook`), 404, {
      code: 2019,
      hint: HINTS[2019],
      detail: 'pay-hook',
    });
    expect((await call('DELETE', `${PATH}/pay-hook`)).status).toBe(404);
    expect((await call('GET', `/instances/orga${PATH}/pay-hook`)).status).toBe(401);
    expect((await registry.list('orga')).count).toBe(1);
  });

  it('unknown instance → 404 code 2000', async () => {
    const { call } = setup();
    expectBody(await call('GET', `/instances/nope${PATH}`), 404, {
      code: 2000,
      hint: HINTS[2000],
      detail: 'nope',
    });
    expectBody(await call('POST', `/instances/nope${PATH}`, { body: HOOK }), 404, {
      code: 2000,
      hint: HINTS[2000],
      detail: 'nope',
    });
  });

  it('405 code 20 with Allow for other methods; unknown paths → 404 code 21', async () => {
    const { call, handler } = setup();
    const put = await call('PUT', PATH, { body: HOOK });
    expectBody(put, 405, { code: 20, hint: HINTS[20] });
    expect(put.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
    expectBody(await call('POST', `${PATH}/x`, { body: HOOK }), 405, { code: 20, hint: HINTS[20] });
    for (const path of [
      `${PATH}/`,
      `${PATH}/a/b`,
      '/private/webhook',
      '/private/webhooks/%ZZ',
      '/instances/',
      '/private',
    ]) {
      const result = await call('GET', path);
      expect(result.status).toBe(404);
      expect(result.json).toMatchObject({ code: 21, hint: HINTS[21] });
    }
    const outside = await handler(new Request(`${ORIGIN}/api/v1/organizers/x/webhooks/`));
    expect(outside.status).toBe(404);
    expect(isUnmatched(outside)).toBe(true);
  });

  it('a throwing authorize → 500 with a Taler error body, reported to onError', async () => {
    const onError = vi.fn();
    const { call } = setup({
      onError,
      authorize: () => {
        throw new Error('secret detail');
      },
    });
    const result = await call('GET', PATH);
    expect(result.status).toBe(500);
    expect(result.json).toEqual({
      code: 60,
      hint: 'The HTTP server experienced an internal invariant failure (bug).',
    });
    expect(result.text).not.toContain('secret detail');
    expect(onError).toHaveBeenCalledOnce();
  });
});

describe('taler: invalid tokens and ids that cannot exist', () => {
  it("'invalid_token' → 401 code 2015, as for any refusal", async () => {
    const { call } = setup({ authorize: () => 'invalid_token' });
    expectBody(await call('GET', PATH), 401, {
      code: 2015,
      hint: HINTS[2015],
      detail: "Check 'Authorization' header",
    });
  });

  it('ids over 200 characters in the path are unknown webhooks (404 code 2019) on every route', async () => {
    const { call } = setup();
    const id = 'x'.repeat(250);
    for (const [method, path] of [
      ['GET', `${PATH}/${id}`],
      ['GET', `${PATH}/${id}/deliveries`],
      ['POST', `${PATH}/${id}/ping`],
      ['GET', `/private/webhook-deliveries/${id}/attempts`],
      ['POST', `/private/webhook-deliveries/${id}/redeliver`],
    ] as const) {
      expectBody(await call(method, path), 404, { code: 2019, hint: HINTS[2019], detail: id });
    }
  });

  it('a webhook_id over 200 characters in a POST body is a malformed parameter (400 code 26)', async () => {
    const { call } = setup();
    expectBody(await call('POST', PATH, { body: { ...HOOK, webhook_id: 'x'.repeat(250) } }), 400, {
      code: 26,
      hint: HINTS[26],
      detail: 'webhook_id',
    });
  });
});
