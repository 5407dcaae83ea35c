/**
 * Deep client input through the Fetch handlers: never a stack overflow, never a 500.
 */
import { describe, expect, it } from 'vitest';
import { pretixHandler, talerHandler } from '../../src/http/index.js';
import { WebhookRegistry } from '../../src/index.js';
import { pretixCatalog, talerCatalog } from '../../src/matching/index.js';
import { authorize, type CallOptions, call, expectBody } from './helpers.js';

const PRETIX_BASE = '/api/v1/organizers/orga/webhooks/';
const TALER_PATH = '/private/webhooks';
const DEEP = 100_000;
const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const TALER_HOOK = {
  webhook_id: 'deep',
  event_type: 'pay',
  url: 'https://receiver.example/pay',
  http_method: 'POST',
};
/** 5 000 nested sections: about 60 KB, under the 64 KiB template limit. */
const DEEP_TEMPLATE = `${'{{#a}}'.repeat(5_000)}${'{{/a}}'.repeat(5_000)}`;

function pretix() {
  return pretixHandler(new WebhookRegistry({ catalog: pretixCatalog }), { authorize });
}

function taler() {
  const handler = talerHandler(new WebhookRegistry({ catalog: talerCatalog }), { authorize });
  return (method: string, path: string, opts: CallOptions = {}) =>
    call(handler, method, path, {
      ...opts,
      token: null,
      headers: { authorization: 'Bearer tok-default', ...opts.headers },
    });
}

describe('pretix: deep request bodies', () => {
  it(`${DEEP} nested arrays in a field → 400 JSON parse error`, async () => {
    const raw = `{"target_url":"https://receiver.example/h","action_types":${nested(DEEP)}}`;
    const result = await call(pretix(), 'POST', PRETIX_BASE, {
      raw,
      headers: { 'content-type': 'application/json' },
    });
    expectBody(result, 400, { detail: 'JSON parse error - The JSON is nested more than 64 levels deep.' });
  });

  it('a body nested 64 levels is parsed and its fields checked as usual', async () => {
    const raw = `{"target_url":"https://receiver.example/h","action_types":${nested(63)}}`;
    const result = await call(pretix(), 'POST', PRETIX_BASE, {
      raw,
      headers: { 'content-type': 'application/json' },
    });
    expect(result.status).toBe(400);
    expect(Object.keys(result.json as object)).toEqual(['action_types']);
  });

  it('brackets inside strings do not count', async () => {
    const body = {
      target_url: 'https://receiver.example/h',
      action_types: ['pretix.event.order.paid'],
      comment: '['.repeat(200),
    };
    expect((await call(pretix(), 'POST', PRETIX_BASE, { body })).status).toBe(201);
  });
});

describe('Taler: deep request bodies and templates', () => {
  it(`${DEEP} nested arrays → 400 code 22`, async () => {
    const raw = `{"webhook_id":"x","event_type":${nested(DEEP)}}`;
    const result = await taler()('POST', TALER_PATH, {
      raw,
      headers: { 'content-type': 'application/json' },
    });
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ code: 22 });
  });

  it('a body_template of 5 000 nested sections → 400 code 26, not 500 code 52', async () => {
    const request = taler();
    const result = await request('POST', TALER_PATH, {
      body: { ...TALER_HOOK, body_template: DEEP_TEMPLATE },
    });
    expectBody(result, 400, {
      code: 26,
      hint: 'A parameter in the request was malformed.',
      detail: 'body_template',
    });
    const header = await request('POST', TALER_PATH, {
      body: { ...TALER_HOOK, header_template: `X-A: ${DEEP_TEMPLATE}` },
    });
    expectBody(header, 400, {
      code: 26,
      hint: 'A parameter in the request was malformed.',
      detail: 'header_template',
    });
  });

  it('PATCH with such a template → the same 400', async () => {
    const request = taler();
    expect((await request('POST', TALER_PATH, { body: TALER_HOOK })).status).toBe(204);
    const { webhook_id: _id, ...rest } = TALER_HOOK;
    const result = await request('PATCH', `${TALER_PATH}/deep`, {
      body: { ...rest, body_template: DEEP_TEMPLATE },
    });
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ code: 26, detail: 'body_template' });
  });
});
