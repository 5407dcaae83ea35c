import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FetchHandler, pretixHandler, talerHandler } from '../../src/http/index.js';
import { WebhookRegistry } from '../../src/index.js';
import { pretixCatalog, talerCatalog } from '../../src/matching/index.js';
import { authorize } from './helpers.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'FOO', 'patch', 'PROPFIND'];
const SEGMENTS = [
  'api',
  'v1',
  'organizers',
  'orga',
  'orgb',
  'webhooks',
  'private',
  'instances',
  'default',
  'shop',
  'w',
  '1',
  '0',
  '-1',
  'abc',
  '%ZZ',
  '%2F',
  '%00',
  '..',
  '.',
  '',
  'deliveries',
  'ping',
  'webhook-deliveries',
  'attempts',
  'redeliver',
  'ordering',
  '9'.repeat(30),
  'é',
  '%C3%A9',
  'x'.repeat(300),
];

const path = fc
  .array(fc.oneof(fc.constantFrom(...SEGMENTS), fc.webSegment()), { maxLength: 7 })
  .chain((segments) =>
    fc.tuple(
      fc.constant(segments),
      fc.boolean(),
      fc.constantFrom('', '?page=2', '?page=x&enabled=1', '?page=last'),
    ),
  )
  .map(([segments, slash, query]) => `/${segments.join('/')}${slash ? '/' : ''}${query}`);

const jsonValue = fc.jsonValue({ maxDepth: 4 });
const webhookish = fc.record(
  {
    webhook_id: fc.oneof(fc.string(), jsonValue),
    event_type: fc.oneof(fc.constantFrom('pay', 'refund'), jsonValue),
    url: fc.oneof(fc.constant('https://receiver.example/x'), fc.string(), jsonValue),
    http_method: fc.oneof(fc.constantFrom('POST', 'put'), jsonValue),
    target_url: fc.oneof(fc.constant('https://receiver.example/x'), jsonValue),
    action_types: fc.oneof(fc.constant(['pretix.event.order.paid']), jsonValue),
    limit_events: jsonValue,
    all_events: jsonValue,
    enabled: jsonValue,
    comment: jsonValue,
    header_template: fc.oneof(fc.constantFrom('{{#a}}', 'X-A: {{b}}'), jsonValue),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.constant(undefined),
  jsonValue.map((v) => JSON.stringify(v)),
  webhookish.map((v) => JSON.stringify(v)),
  fc.string(),
  fc.uint8Array({ maxLength: 64 }),
);

function isPretixError(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  if (entries.length === 0) return false;
  if ('detail' in value)
    return entries.length === 1 && typeof (value as { detail: unknown }).detail === 'string';
  return entries.every(
    ([, messages]) => Array.isArray(messages) && messages.every((m) => typeof m === 'string'),
  );
}

function isTalerError(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    Number.isInteger(v.code) &&
    typeof v.hint === 'string' &&
    (v.detail === undefined || typeof v.detail === 'string') &&
    Object.keys(v).every((k) => ['code', 'hint', 'detail', 'field'].includes(k))
  );
}

async function fuzz(handler: FetchHandler, isError: (value: unknown) => boolean, prefix: string) {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...METHODS),
      fc.oneof(
        path,
        path.map((p) => `${prefix}${p}`),
      ),
      body,
      fc.constantFrom('application/json', 'text/plain', '', 'application/merge-patch+json'),
      fc.constantFrom('Token tok-a', 'Bearer tok-default', '', 'Token tok-b'),
      async (method, p, payload, contentType, auth) => {
        const headers = new Headers();
        if (contentType !== '') headers.set('content-type', contentType);
        if (auth !== '') headers.set('authorization', auth);
        const withBody = payload !== undefined && method !== 'GET' && method !== 'HEAD';
        let request: Request;
        try {
          request = new Request(`https://h.example${p}`, {
            method,
            headers,
            ...(withBody ? { body: payload } : {}),
          });
        } catch {
          return; // not a request a client could send
        }
        const response = await handler(request);
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400 && method.toUpperCase() !== 'HEAD') {
          expect(response.headers.get('content-type')).toBe('application/json');
          expect(isError(JSON.parse(await response.text()))).toBe(true);
        }
      },
    ),
    { numRuns: 400 },
  );
}

describe('property: random methods, paths and bodies', () => {
  it('pretix: never a 5xx; errors are {"detail"} or {field: [messages]}', async () => {
    const registry = new WebhookRegistry({ catalog: pretixCatalog });
    await registry.create('orga', {
      url: 'https://receiver.example/a',
      eventTypes: ['pretix.event.order.paid'],
    });
    await fuzz(
      pretixHandler(registry, { authorize, maxBodyBytes: 4096 }),
      isPretixError,
      '/api/v1/organizers/orga/webhooks',
    );
  });

  it('taler: never a 5xx; errors are {code, hint, detail?}', async () => {
    const registry = new WebhookRegistry({ catalog: talerCatalog });
    await registry.create('default', { key: 'w', url: 'https://receiver.example/a', eventTypes: ['pay'] });
    await fuzz(talerHandler(registry, { authorize, maxBodyBytes: 4096 }), isTalerError, '/private/webhooks');
  });
});
