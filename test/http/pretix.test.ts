import { describe, expect, it, vi } from 'vitest';
import { isUnmatched, type PretixHandlerOptions, pretixHandler } from '../../src/http/index.js';
import { WebhookRegistry } from '../../src/index.js';
import { pretixCatalog } from '../../src/matching/index.js';
import { authorize, call, expectBody, ORIGIN } from './helpers.js';

const BASE = '/api/v1/organizers/orga/webhooks';
const PAID = 'pretix.event.order.paid';
const CHANGED = 'pretix.event.order.changed.*';
const MODIFIED = 'pretix.event.order.modified';
const EVENTS = new Set(['democon', 'othercon']);

function setup(options: Partial<PretixHandlerOptions> = {}) {
  const registry = new WebhookRegistry({
    catalog: pretixCatalog,
    eventExists: (_scope, slug) => EVENTS.has(slug),
  });
  const handler = pretixHandler(registry, {
    authorize,
    scopeExists: (scope) => ['orga', 'orgb'].includes(scope),
    ...options,
  });
  return { registry, handler };
}

const EXAMPLE = {
  enabled: true,
  target_url: 'https://httpstat.us/200',
  all_events: false,
  limit_events: ['democon'],
  action_types: [MODIFIED, CHANGED],
  comment: 'Called for changes',
};

describe('pretix: create and read', () => {
  it('POST creates (201) and returns the full object in pretix field order with sorted action_types', async () => {
    const { handler } = setup();
    const result = await call(handler, 'POST', `${BASE}/`, { body: EXAMPLE });
    expectBody(result, 201, {
      id: 1,
      enabled: true,
      target_url: 'https://httpstat.us/200',
      all_events: false,
      limit_events: ['democon'],
      action_types: [CHANGED, MODIFIED],
      comment: 'Called for changes',
    });
    expect(result.headers.get('content-type')).toBe('application/json');
    const one = await call(handler, 'GET', `${BASE}/1/`);
    expect(one.text).toBe(result.text);
  });

  it('applies defaults: enabled, all_events true, limit_events [], comment null; duplicates removed', async () => {
    const { handler } = setup();
    const result = await call(handler, 'POST', `${BASE}/`, {
      body: { target_url: 'https://example.com/h', action_types: [PAID, PAID] },
    });
    expectBody(result, 201, {
      id: 1,
      enabled: true,
      target_url: 'https://example.com/h',
      all_events: true,
      limit_events: [],
      action_types: [PAID],
      comment: null,
    });
  });

  it('ignores unknown and read-only fields (id)', async () => {
    const { handler } = setup();
    const result = await call(handler, 'POST', `${BASE}/`, {
      body: { id: 99, foo: 'bar', target_url: 'https://example.com/h', action_types: [PAID] },
    });
    expect(result.status).toBe(201);
    expect((result.json as { id: number }).id).toBe(1);
  });

  it('never returns secrets', async () => {
    const { handler, registry } = setup();
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    await registry.create('orga', { url: 'https://example.com/h', eventTypes: [PAID], secrets: [secret] });
    for (const path of [`${BASE}/`, `${BASE}/1/`]) {
      const result = await call(handler, 'GET', path);
      expect(result.status).toBe(200);
      expect(result.text).not.toContain('whsec_');
      expect(result.text).not.toContain('secret');
    }
  });
});

describe('pretix: validation (400 bodies byte for byte)', () => {
  const cases: [string, unknown, unknown][] = [
    [
      'invalid URL',
      { target_url: 'not a url', action_types: [PAID] },
      { target_url: ['Enter a valid URL.'] },
    ],
    [
      'ftp URL',
      { target_url: 'ftp://example.com/x', action_types: [PAID] },
      { target_url: ['Enter a valid URL.'] },
    ],
    [
      'unknown action type',
      { target_url: 'https://example.com/h', action_types: [PAID, 'foo'] },
      { action_types: ['Invalid action type "foo".'] },
    ],
    [
      'unknown event slug',
      { target_url: 'https://example.com/h', action_types: [PAID], all_events: false, limit_events: ['foo'] },
      { limit_events: ['Object with slug=foo does not exist.'] },
    ],
    [
      'limit_events with all_events',
      {
        target_url: 'https://example.com/h',
        action_types: [PAID],
        all_events: true,
        limit_events: ['democon'],
      },
      { non_field_errors: ['You can set either limit_events or all_events.'] },
    ],
    [
      'missing required fields',
      {},
      { target_url: ['This field is required.'], action_types: ['This field is required.'] },
    ],
    [
      'wrong JSON types',
      {
        enabled: 'maybe',
        target_url: 5,
        all_events: null,
        limit_events: 'democon',
        action_types: 'x',
        comment: [],
      },
      {
        enabled: ['Must be a valid boolean.'],
        target_url: ['Enter a valid URL.'],
        all_events: ['This field may not be null.'],
        limit_events: ['Expected a list of items but got type "str".'],
        action_types: ['Expected a list of items but got type "str".'],
        comment: ['Not a valid string.'],
      },
    ],
    [
      'blank URL',
      { target_url: '  ', action_types: [PAID] },
      { target_url: ['This field may not be blank.'] },
    ],
    [
      'comment too long',
      { target_url: 'https://example.com/h', action_types: [PAID], comment: 'x'.repeat(256) },
      { comment: ['Ensure this field has no more than 255 characters.'] },
    ],
    ['not an object', [1, 2], { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] }],
    ['a string', 'hello', { non_field_errors: ['Invalid data. Expected a dictionary, but got str.'] }],
  ];
  for (const [name, body, expected] of cases) {
    it(name, async () => {
      const { handler } = setup();
      const result = await call(handler, 'POST', `${BASE}/`, { body });
      expectBody(result, 400, expected);
    });
  }

  it('reports field errors before (and without) non_field_errors, like DRF', async () => {
    const { handler } = setup();
    const result = await call(handler, 'POST', `${BASE}/`, {
      body: { target_url: 'nope', action_types: [PAID], all_events: true, limit_events: ['democon'] },
    });
    expectBody(result, 400, { target_url: ['Enter a valid URL.'] });
  });

  it('accepts DRF boolean spellings and trims strings', async () => {
    const { handler } = setup();
    const result = await call(handler, 'POST', `${BASE}/`, {
      body: { target_url: '  https://example.com/h ', action_types: [PAID], enabled: 'false', all_events: 1 },
    });
    expect(result.status).toBe(201);
    expect(result.json).toMatchObject({
      enabled: false,
      all_events: true,
      target_url: 'https://example.com/h',
    });
  });

  it('checks PATCH on the stored object merged with the request', async () => {
    const { handler } = setup();
    await call(handler, 'POST', `${BASE}/`, { body: EXAMPLE });
    const result = await call(handler, 'PATCH', `${BASE}/1/`, { body: { all_events: true } });
    expectBody(result, 400, { non_field_errors: ['You can set either limit_events or all_events.'] });
  });

  it('invalid JSON → 400 detail; other content types → 415', async () => {
    const { handler } = setup();
    const bad = await call(handler, 'POST', `${BASE}/`, {
      raw: '{"target_url":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json as object)).toEqual(['detail']);
    expect((bad.json as { detail: string }).detail).toMatch(/^JSON parse error - /);
    const text = await call(handler, 'POST', `${BASE}/`, {
      raw: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expectBody(text, 415, { detail: 'Unsupported media type "text/plain" in request.' });
    const form = await call(handler, 'POST', `${BASE}/`, {
      raw: 'a=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectBody(form, 415, {
      detail: 'Unsupported media type "application/x-www-form-urlencoded" in request.',
    });
  });
});

describe('pretix: list, pagination and the enabled filter', () => {
  async function many(count: number) {
    const ctx = setup();
    for (let i = 0; i < count; i += 1) {
      await ctx.registry.create('orga', {
        url: `https://example.com/${i}`,
        eventTypes: [PAID],
        enabled: i % 3 !== 0,
      });
    }
    return ctx;
  }

  it('pages 120 webhooks by 50 with absolute next/previous links', async () => {
    const { handler } = await many(120);
    const first = await call(handler, 'GET', `${BASE}/`);
    const p1 = first.json as {
      count: number;
      next: string | null;
      previous: string | null;
      results: { id: number }[];
    };
    expect(first.status).toBe(200);
    expect(Object.keys(p1)).toEqual(['count', 'next', 'previous', 'results']);
    expect(p1.count).toBe(120);
    expect(p1.results.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(p1.next).toBe(`${ORIGIN}${BASE}/?page=2`);
    expect(p1.previous).toBeNull();

    const second = (await call(handler, 'GET', `${BASE}/?page=2`)).json as typeof p1;
    expect(second.results[0]?.id).toBe(51);
    expect(second.next).toBe(`${ORIGIN}${BASE}/?page=3`);
    expect(second.previous).toBe(`${ORIGIN}${BASE}/`);

    const third = (await call(handler, 'GET', `${BASE}/?page=3`)).json as typeof p1;
    expect(third.results.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 101));
    expect(third.next).toBeNull();
    expect(third.previous).toBe(`${ORIGIN}${BASE}/?page=2`);

    const last = (await call(handler, 'GET', `${BASE}/?page=last`)).json as typeof p1;
    expect(last.results[0]?.id).toBe(101);
  });

  it('keeps other query parameters, sorted, in the links', async () => {
    const { handler } = await many(120);
    const page = (await call(handler, 'GET', `${BASE}/?page=2&x=a+b&enabled=foo`)).json as {
      next: string;
      previous: string;
    };
    expect(page.next).toBe(`${ORIGIN}${BASE}/?enabled=foo&page=3&x=a+b`);
    expect(page.previous).toBe(`${ORIGIN}${BASE}/?enabled=foo&x=a+b`);
  });

  for (const page of ['4', '0', '-1', 'abc', '1.5', '99999999999999999999']) {
    it(`invalid page ${page} → 404 {"detail": "Invalid page."}`, async () => {
      const { handler } = await many(120);
      expectBody(await call(handler, 'GET', `${BASE}/?page=${page}`), 404, { detail: 'Invalid page.' });
    });
  }

  it('an empty list is page 1 with no results', async () => {
    const { handler } = setup();
    expectBody(await call(handler, 'GET', `${BASE}/`), 200, {
      count: 0,
      next: null,
      previous: null,
      results: [],
    });
    expectBody(await call(handler, 'GET', `${BASE}/?page=2`), 404, { detail: 'Invalid page.' });
  });

  it('filters by enabled (true/false/1/0, any case); other values do not filter', async () => {
    const { handler } = await many(12);
    const count = async (query: string) =>
      ((await call(handler, 'GET', `${BASE}/${query}`)).json as { count: number }).count;
    expect(await count('?enabled=true')).toBe(8);
    expect(await count('?enabled=TRUE')).toBe(8);
    expect(await count('?enabled=1')).toBe(8);
    expect(await count('?enabled=false')).toBe(4);
    expect(await count('?enabled=False')).toBe(4);
    expect(await count('?enabled=0')).toBe(4);
    expect(await count('?enabled=yes')).toBe(12);
    expect(await count('?enabled=')).toBe(12);
  });
});

describe('pretix: PUT, PATCH, DELETE', () => {
  it('PATCH changes only the given fields; omitting action_types leaves them', async () => {
    const { handler } = setup();
    await call(handler, 'POST', `${BASE}/`, { body: EXAMPLE });
    const result = await call(handler, 'PATCH', `${BASE}/1/`, { body: { enabled: false } });
    expectBody(result, 200, { id: 1, ...EXAMPLE, enabled: false, action_types: [CHANGED, MODIFIED] });
    const replaced = await call(handler, 'PATCH', `${BASE}/1/`, { body: { action_types: [PAID] } });
    expect((replaced.json as { action_types: string[] }).action_types).toEqual([PAID]);
  });

  it('PUT requires target_url and action_types and resets omitted fields to their defaults', async () => {
    const { handler } = setup();
    await call(handler, 'POST', `${BASE}/`, { body: EXAMPLE });
    const missing = await call(handler, 'PUT', `${BASE}/1/`, { body: { enabled: false } });
    expectBody(missing, 400, {
      target_url: ['This field is required.'],
      action_types: ['This field is required.'],
    });
    const result = await call(handler, 'PUT', `${BASE}/1/`, {
      body: { target_url: 'https://example.com/new', action_types: [PAID] },
    });
    expectBody(result, 200, {
      id: 1,
      enabled: true,
      target_url: 'https://example.com/new',
      all_events: true,
      limit_events: [],
      action_types: [PAID],
      comment: null,
    });
  });

  it('PUT keeps what pretix cannot see (secrets, templates)', async () => {
    const { handler, registry } = setup();
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    await registry.create('orga', { url: 'https://example.com/h', eventTypes: [PAID], secrets: [secret] });
    await call(handler, 'PUT', `${BASE}/1/`, {
      body: { target_url: 'https://example.com/x', action_types: [PAID] },
    });
    expect(await registry.secrets('orga', 1)).toEqual([secret]);
  });

  it('DELETE answers 204 and only disables', async () => {
    const { handler } = setup();
    await call(handler, 'POST', `${BASE}/`, { body: EXAMPLE });
    const result = await call(handler, 'DELETE', `${BASE}/1/`);
    expect(result.status).toBe(204);
    expect(result.text).toBe('');
    const after = await call(handler, 'GET', `${BASE}/1/`);
    expect(after.status).toBe(200);
    expect(after.json).toMatchObject({ id: 1, enabled: false });
    expect((await call(handler, 'DELETE', `${BASE}/1/`)).status).toBe(204);
  });

  it('unknown ids → 404 for every method', async () => {
    const { handler } = setup();
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
      const result = await call(handler, method, `${BASE}/42/`, {
        body: { target_url: 'https://e.com', action_types: [PAID] },
      });
      expectBody(result, 404, { detail: 'Not found.' });
    }
  });

  it('non-integer ids → 404', async () => {
    const { handler } = setup();
    await call(handler, 'POST', `${BASE}/`, { body: EXAMPLE });
    for (const id of ['abc', '1.0', '-1', '0', '1e3', '%31%2E', '99999999999999999999']) {
      expectBody(await call(handler, 'GET', `${BASE}/${id}/`), 404, { detail: 'Not found.' });
    }
    expect((await call(handler, 'GET', `${BASE}/001/`)).status).toBe(200);
  });
});

describe('pretix: authorization', () => {
  it('401 without credentials (with WWW-Authenticate), for every method', async () => {
    const { handler } = setup();
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'FOO']) {
      const result = await call(handler, method, `${BASE}/1/`, { token: null });
      expectBody(result, 401, { detail: 'Authentication credentials were not provided.' });
      expect(result.headers.get('www-authenticate')).toBe('Token');
    }
  });

  it('403 for an unknown organizer or a foreign one, for every method, even where the id would 404', async () => {
    const { handler, registry } = setup();
    await registry.create('orgb', { url: 'https://example.com/b', eventTypes: [PAID] });
    const forbidden = { detail: 'You do not have permission to perform this action.' };
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'FOO']) {
      for (const path of [
        '/api/v1/organizers/orgb/webhooks/',
        '/api/v1/organizers/orgb/webhooks/1/',
        '/api/v1/organizers/orgb/webhooks/999/',
      ]) {
        expectBody(await call(handler, method, path, { body: {} }), 403, forbidden);
      }
      expectBody(
        await call(handler, method, '/api/v1/organizers/nope/webhooks/', { token: 'tok-a', body: {} }),
        403,
        forbidden,
      );
    }
    // A token for orgb, asking for an organizer that does not exist:
    expectBody(
      await call(handler, 'GET', '/api/v1/organizers/nope/webhooks/', { token: 'tok-b' }),
      403,
      forbidden,
    );
  });

  it("one organizer cannot see or touch another organizer's webhooks by id", async () => {
    const { handler, registry } = setup();
    const b = await registry.create('orgb', { url: 'https://example.com/b', eventTypes: [PAID] });
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
      const result = await call(handler, method, `${BASE}/${b.id}/`, {
        body: { target_url: 'https://evil.example', action_types: [PAID] },
      });
      expectBody(result, 404, { detail: 'Not found.' });
    }
    expect((await call(handler, 'GET', `${BASE}/`)).json).toMatchObject({ count: 0 });
    expect(await registry.get('orgb', b.id)).toMatchObject({ url: 'https://example.com/b', enabled: true });
  });

  it('needs write for every method by default; readWriteSplit allows reads with read permission', async () => {
    const strict = setup();
    expect((await call(strict.handler, 'GET', `${BASE}/`, { token: 'tok-ro' })).status).toBe(403);
    const split = setup({ readWriteSplit: true });
    expect((await call(split.handler, 'GET', `${BASE}/`, { token: 'tok-ro' })).status).toBe(200);
    expect((await call(split.handler, 'POST', `${BASE}/`, { token: 'tok-ro', body: EXAMPLE })).status).toBe(
      403,
    );
  });

  it('passes scope and permission to authorize', async () => {
    const spy = vi.fn(() => true);
    const { handler } = setup({ authorize: spy, readWriteSplit: true });
    await call(handler, 'GET', `${BASE}/`);
    await call(handler, 'POST', `${BASE}/`, { body: EXAMPLE });
    expect(
      spy.mock.calls.map((c) => [
        (c as unknown as [{ scope: string; permission: string }])[0].scope,
        (c as unknown as [{ permission: string }])[0].permission,
      ]),
    ).toEqual([
      ['orga', 'webhooks-read'],
      ['orga', 'webhooks-write'],
    ]);
  });

  it('a throwing authorize → 500 in pretix shape, reported to onError, never leaked', async () => {
    const onError = vi.fn();
    const { handler } = setup({
      authorize: () => {
        throw new Error('db password is hunter2');
      },
      onError,
    });
    const result = await call(handler, 'GET', `${BASE}/`);
    expectBody(result, 500, { detail: 'A server error occurred.' });
    expect(onError).toHaveBeenCalledOnce();
  });
});

describe('pretix: methods, paths and limits', () => {
  it('405 for other methods, with Allow', async () => {
    const { handler } = setup();
    expectBody(await call(handler, 'FOO', `${BASE}/`), 405, { detail: 'Method "FOO" not allowed.' });
    const post = await call(handler, 'POST', `${BASE}/1/`, { body: {} });
    expectBody(post, 405, { detail: 'Method "POST" not allowed.' });
    expect(post.headers.get('allow')).toBe('GET, PUT, PATCH, DELETE, HEAD, OPTIONS');
    expectBody(await call(handler, 'PUT', `${BASE}/`, { body: {} }), 405, {
      detail: 'Method "PUT" not allowed.',
    });
  });

  it('accepts paths with and without the trailing slash', async () => {
    const { handler } = setup();
    expect((await call(handler, 'POST', BASE, { body: EXAMPLE })).status).toBe(201);
    expect((await call(handler, 'GET', `${BASE}/1`)).status).toBe(200);
    expect((await call(handler, 'GET', BASE)).status).toBe(200);
  });

  it('unknown sub-paths and odd encodings → 404; outside basePath → 404 marked unmatched', async () => {
    const { handler } = setup();
    for (const path of [
      `${BASE}/1/foo/`,
      `${BASE}//`,
      '/api/v1/organizers/orga/',
      '/api/v1/organizers/%ZZ/webhooks/',
      '/api/v1/organizers/a%2Fb/webhooks/',
      '/api/v1/organizers/orga/webhooks/%00/',
    ]) {
      expectBody(await call(handler, 'GET', path), 404, { detail: 'Not found.' });
    }
    const response = await handler(new Request(`${ORIGIN}/elsewhere`));
    expect(response.status).toBe(404);
    expect(isUnmatched(response)).toBe(true);
    expect(isUnmatched(await handler(new Request(`${ORIGIN}/api/v10/organizers/orga/webhooks/`)))).toBe(true);
    expect(isUnmatched(await handler(new Request(`${ORIGIN}${BASE}/1/foo`)))).toBe(false);
  });

  it('honours a custom basePath', async () => {
    const { handler } = setup({ basePath: '/hooks/pretix/' });
    expect((await call(handler, 'GET', '/hooks/pretix/organizers/orga/webhooks/')).status).toBe(200);
    expect((await call(handler, 'GET', `${BASE}/`)).status).toBe(404);
  });

  it('413 for a body over maxBodyBytes (declared or streamed)', async () => {
    const { handler } = setup({ maxBodyBytes: 100 });
    const big = JSON.stringify({ ...EXAMPLE, comment: 'x'.repeat(200) });
    const declared = await call(handler, 'POST', `${BASE}/`, {
      raw: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(declared.status).toBe(413);
    expect(Object.keys(declared.json as object)).toEqual(['detail']);
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(encoder.encode('{"comment":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'));
      },
    });
    const response = await handler(
      new Request(`${ORIGIN}${BASE}/`, {
        method: 'POST',
        body: stream,
        headers: { authorization: 'Token tok-a', 'content-type': 'application/json' },
        duplex: 'half',
      } as RequestInit),
    );
    expect(response.status).toBe(413);
  });

  it('HEAD is GET without a body; OPTIONS describes the endpoint', async () => {
    const { handler } = setup();
    const head = await call(handler, 'HEAD', `${BASE}/`);
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    const options = await call(handler, 'OPTIONS', `${BASE}/`);
    expect(options.status).toBe(200);
    expect(options.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
  });

  it('serves the OpenAPI document at openApiPath without authorization', async () => {
    const { handler } = setup({ openApiPath: '/api/v1/openapi.json' });
    const result = await call(handler, 'GET', '/api/v1/openapi.json', { token: null });
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ openapi: '3.1.0' });
  });

  it('refuses to build without authorize', () => {
    expect(() => pretixHandler(new WebhookRegistry(), {} as PretixHandlerOptions)).toThrow(/authorize/);
  });
});

describe('pretix: invalid tokens and ids that cannot exist', () => {
  /** Knows one token; any other is invalid, no header is unauthenticated. */
  const tokenAuthorize: PretixHandlerOptions['authorize'] = ({ request }) => {
    const header = request.headers.get('authorization');
    if (header === null) return 'unauthenticated';
    return header === 'Token good' ? true : 'invalid_token';
  };

  it('\'invalid_token\' → 401 {"detail": "Invalid token."} with WWW-Authenticate, for every method', async () => {
    const { handler } = setup({ authorize: tokenAuthorize });
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'FOO']) {
      const result = await call(handler, method, `${BASE}/1/`, { token: 'unknown' });
      expectBody(result, 401, { detail: 'Invalid token.' });
      expect(result.headers.get('www-authenticate')).toBe('Token');
    }
    const missing = await call(handler, 'GET', `${BASE}/`, { token: null });
    expectBody(missing, 401, { detail: 'Authentication credentials were not provided.' });
    expect((await call(handler, 'GET', `${BASE}/`, { token: 'good' })).status).toBe(200);
  });

  it("an async 'invalid_token' works the same", async () => {
    const { handler } = setup({ authorize: async () => 'invalid_token' as const });
    expectBody(await call(handler, 'GET', `${BASE}/`), 401, { detail: 'Invalid token.' });
  });

  it('a delivery id over 200 characters is 404, not 400', async () => {
    const { handler } = setup();
    const id = 'x'.repeat(250);
    expectBody(
      await call(handler, 'GET', `/api/v1/organizers/orga/webhook-deliveries/${id}/attempts/`),
      404,
      {
        detail: 'Not found.',
      },
    );
    expectBody(
      await call(handler, 'POST', `/api/v1/organizers/orga/webhook-deliveries/${id}/redeliver/`),
      404,
      {
        detail: 'Not found.',
      },
    );
  });
});
