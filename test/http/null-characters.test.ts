/**
 * U+0000 (NUL) in client input: PostgreSQL text and jsonb cannot hold it, so every store must
 * refuse it the same way, before anything reaches the store. Each case runs on the memory store
 * and on the real PostgreSQL server (where a NUL used to be a 500).
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { pretixHandler, talerHandler } from '../../src/http/index.js';
import { memoryStore, WebhookRegistry } from '../../src/index.js';
import { pretixCatalog, talerCatalog } from '../../src/matching/index.js';
import type { PostgresStore } from '../../src/stores/postgres/index.js';
import type { Store } from '../../src/stores/types.js';
import { describeServer, destroyStore, dropRunSchemas, freshStore, serverPool } from '../postgres/helpers.js';
import { authorize, type CallOptions, call, expectBody } from './helpers.js';

const NUL = '\u0000';
const MESSAGE = 'Null characters are not allowed.';
const PRETIX_BASE = '/api/v1/organizers/orga/webhooks';
const PAID = 'pretix.event.order.paid';
const PRETIX_HOOK = { target_url: 'https://receiver.example/h', action_types: [PAID] };
const TALER_PATH = '/private/webhooks';
const TALER_HOOK = {
  webhook_id: 'pay-hook',
  event_type: 'pay',
  url: 'https://receiver.example/pay',
  http_method: 'POST',
  header_template: 'X-Taler-Order: {{order_id}}',
  body_template: '{"order":"{{order_id}}"}',
};
const TALER_26 = { code: 26, hint: 'A parameter in the request was malformed.' };

/** pretix fields, a NUL-bearing value for each, and the body that carries it. */
const PRETIX_CASES: [string, Record<string, unknown>][] = [
  ['comment', { ...PRETIX_HOOK, comment: `a${NUL}b` }],
  ['target_url', { ...PRETIX_HOOK, target_url: `https://receiver.example/${NUL}` }],
  ['limit_events', { ...PRETIX_HOOK, all_events: false, limit_events: [`democon${NUL}`] }],
  ['action_types', { ...PRETIX_HOOK, action_types: [`${PAID}${NUL}`] }],
];

/** Taler fields and a NUL-bearing value for each. */
const TALER_FIELDS = [
  'webhook_id',
  'event_type',
  'url',
  'http_method',
  'header_template',
  'body_template',
] as const;

function talerCall(
  handler: ReturnType<typeof talerHandler>,
  method: string,
  path: string,
  opts: CallOptions = {},
) {
  return call(handler, method, path, {
    ...opts,
    token: null,
    headers: { authorization: 'Bearer tok-default' },
  });
}

function nulSuite(createStore: () => Promise<Store>) {
  describe('pretix dialect', () => {
    let registry: WebhookRegistry;
    let handler: ReturnType<typeof pretixHandler>;
    beforeAll(async () => {
      registry = new WebhookRegistry({ store: await createStore(), catalog: pretixCatalog });
      handler = pretixHandler(registry, { authorize });
    });

    it.each(PRETIX_CASES)(
      'POST with a NUL in %s → 400 {field: ["Null characters are not allowed."]}',
      async (field, body) => {
        expectBody(await call(handler, 'POST', `${PRETIX_BASE}/`, { body }), 400, { [field]: [MESSAGE] });
      },
    );

    it.each(PRETIX_CASES)(
      'PUT and PATCH with a NUL in %s → the same 400, nothing changed',
      async (field, body) => {
        const created = await call(handler, 'POST', `${PRETIX_BASE}/`, { body: PRETIX_HOOK });
        expect(created.status).toBe(201);
        const id = (created.json as { id: number }).id;
        expectBody(await call(handler, 'PUT', `${PRETIX_BASE}/${id}/`, { body }), 400, {
          [field]: [MESSAGE],
        });
        const patch = Object.fromEntries(
          Object.entries(body).filter(([key]) => key === field || key === 'all_events'),
        );
        expectBody(await call(handler, 'PATCH', `${PRETIX_BASE}/${id}/`, { body: patch }), 400, {
          [field]: [MESSAGE],
        });
        expect((await call(handler, 'GET', `${PRETIX_BASE}/${id}/`)).json).toEqual(created.json);
      },
    );

    it('several fields with a NUL are all reported, in resource order', async () => {
      const body = { ...PRETIX_HOOK, target_url: `https://x.example/${NUL}`, comment: NUL };
      expectBody(await call(handler, 'POST', `${PRETIX_BASE}/`, { body }), 400, {
        target_url: [MESSAGE],
        comment: [MESSAGE],
      });
    });
  });

  describe('Taler dialect', () => {
    let registry: WebhookRegistry;
    let handler: ReturnType<typeof talerHandler>;
    beforeAll(async () => {
      registry = new WebhookRegistry({ store: await createStore(), catalog: talerCatalog });
      handler = talerHandler(registry, { authorize });
    });

    it.each(TALER_FIELDS)('POST with a NUL in %s → 400 code 26 naming the field', async (field) => {
      const body = { ...TALER_HOOK, [field]: `${TALER_HOOK[field]}${NUL}` };
      expectBody(await talerCall(handler, 'POST', TALER_PATH, { body }), 400, { ...TALER_26, detail: field });
      expect((await talerCall(handler, 'GET', TALER_PATH)).json).toEqual({ webhooks: [] });
    });

    it.each(TALER_FIELDS.filter((f) => f !== 'webhook_id'))(
      'PATCH with a NUL in %s → 400 code 26 naming the field',
      async (field) => {
        const key = `patch-${field}`;
        expect(
          (await talerCall(handler, 'POST', TALER_PATH, { body: { ...TALER_HOOK, webhook_id: key } })).status,
        ).toBe(204);
        const { webhook_id: _id, ...rest } = TALER_HOOK;
        const body = { ...rest, [field]: `${rest[field]}${NUL}` };
        expectBody(await talerCall(handler, 'PATCH', `${TALER_PATH}/${key}`, { body }), 400, {
          ...TALER_26,
          detail: field,
        });
        expect((await talerCall(handler, 'GET', `${TALER_PATH}/${key}`)).status).toBe(200);
      },
    );

    it('a NUL in the webhook id of the path matches no endpoint (404 code 21, as any control character)', async () => {
      const result = await talerCall(handler, 'GET', `${TALER_PATH}/a%00b`);
      expect(result.status).toBe(404);
      expect(result.json).toMatchObject({
        code: 21,
        hint: 'There is no endpoint defined for the URL provided by the client.',
      });
    });
  });

  describe('emit()', () => {
    it('refuses NUL in data values and keys with a ValidationError, before the store', async () => {
      const registry = new WebhookRegistry({ store: await createStore() });
      await registry.create('acme', { url: 'https://receiver.example/h', eventTypes: ['order.paid'] });
      for (const data of [{ note: `a${NUL}` }, { items: [{ [`k${NUL}`]: 1 }] }]) {
        await expect(registry.emit({ scope: 'acme', type: 'order.paid', data })).rejects.toBeInstanceOf(
          ValidationError,
        );
      }
      const ok = await registry.emit({ scope: 'acme', type: 'order.paid', data: { note: 'fine' } });
      expect(ok.deliveries).toBe(1);
    });
  });
}

describe('NUL in client input: memory store', () => {
  nulSuite(async () => memoryStore());
});

describeServer('NUL in client input: PostgreSQL store', () => {
  let pool: pg.Pool;
  const stores: PostgresStore[] = [];
  beforeAll(() => {
    pool = serverPool();
  });
  afterAll(async () => {
    for (const store of stores) await destroyStore(store);
    await dropRunSchemas(pool);
    await pool.end();
  });
  nulSuite(async () => {
    const store = await freshStore(pool);
    stores.push(store);
    return store;
  });
});
