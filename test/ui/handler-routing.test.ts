/**
 * deliveryLogUi(): options, routing below the base path, methods, HEAD, the security headers of
 * every answer, the assets, and markup without inline script or style (in-process, no browser).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { combineHandlers, isUnmatched } from '../../src/http/index.js';
import { memoryStore, WebhookRegistry } from '../../src/index.js';
import { CONTENT_SECURITY_POLICY, type DeliveryLogUiOptions, deliveryLogUi } from '../../src/ui/index.js';
import { thrownBy } from '../helpers/errors.js';
import {
  type Answer,
  answer,
  BASE,
  Browser,
  findForm,
  forms,
  HOUR,
  location,
  ORIGIN,
  type Setup,
  setup,
  tags,
} from './handler-helpers.js';

let current: Setup | null = null;
afterEach(async () => {
  await current?.worker.stop();
  current = null;
});

/** A scope with a webhook, a delivery with one failed attempt, and a page of everything. */
async function populated(options: Parameters<typeof setup>[0] = {}) {
  const s = setup({ respond: () => ({ status: 500, body: '{"error":"down"}' }), ...options });
  current = s;
  const hook = await s.registry.create('acme', {
    url: 'https://receiver.example/hook',
    eventTypes: ['order.paid'],
  });
  const { deliveryIds } = await s.registry.emit({ scope: 'acme', type: 'order.paid', data: { n: 1 } });
  await s.worker.drain();
  s.clock.advance(HOUR);
  return { ...s, hook, deliveryId: deliveryIds[0] as string };
}

describe('deliveryLogUi() options', () => {
  const registry = new WebhookRegistry({ store: memoryStore() });
  const code = (options: unknown) =>
    thrownBy(() => deliveryLogUi(registry, options as DeliveryLogUiOptions)).code;

  it('needs authorize, a function', () => {
    expect(code(undefined)).toBe('invalid_option');
    expect(code({})).toBe('invalid_option');
    expect(thrownBy(() => deliveryLogUi(registry, {} as DeliveryLogUiOptions)).message).toContain(
      'authorize',
    );
    expect(code({ authorize: true })).toBe('invalid_option');
  });

  it('refuses a basePath that is not a path, and wrong option types', () => {
    const authorize = () => true;
    for (const basePath of ['ui', 'https://x.example/ui', 42]) {
      const error = thrownBy(() => deliveryLogUi(registry, { authorize, basePath } as DeliveryLogUiOptions));
      expect(error.code).toBe('invalid_option');
      expect(error.message).toContain('basePath');
    }
    expect(code({ authorize, title: 5 })).toBe('invalid_option');
    expect(code({ authorize, scopes: ['acme'] })).toBe('invalid_option');
    expect(code({ authorize, onUnauthenticated: 'login' })).toBe('invalid_option');
    expect(code({ authorize, secureCookies: 'yes' })).toBe('invalid_option');
    expect(() => deliveryLogUi(registry, { authorize, basePath: '/admin/log/' })).not.toThrow();
  });

  it('refuses a csrfSecret shorter than 32 characters without showing it', () => {
    const error = thrownBy(() =>
      deliveryLogUi(registry, { authorize: () => true, csrfSecret: 'short-secret-31-characters-long' }),
    );
    expect(error.code).toBe('invalid_option');
    expect(error.message).toContain('csrfSecret');
    expect(error.message).not.toContain('short-secret');
    expect(code({ authorize: () => true, csrfSecret: 1234 })).toBe('invalid_option');
    expect(() =>
      deliveryLogUi(registry, { authorize: () => true, csrfSecret: 'x'.repeat(32) }),
    ).not.toThrow();
  });
});

describe('routing', () => {
  it('serves the index with a scope form, and redirects a typed scope to its webhooks', async () => {
    const s = setup();
    const browser = new Browser(s.ui);
    for (const path of [BASE, `${BASE}/`]) {
      const index = await browser.get(path);
      expect(index.status).toBe(200);
      const form = forms(index.text).find((f) => f.className.split(' ').includes('open-scope'));
      expect(form?.method).toBe('get');
      expect(
        tags(form?.markup ?? '').some((t) => t.name === 'input' && t.attributes.get('name') === 'scope'),
      ).toBe(true);
    }
    expect(location(await browser.get(`${BASE}/?scope=${encodeURIComponent('my shop/eu')}`))).toBe(
      `${BASE}/my%20shop%2Feu/webhooks`,
    );
  });

  it('lists the offered scopes the user may read; exactly one redirects', async () => {
    const offered = ['acme', 'other', 'secret-scope'];
    const s = setup({ ui: { scopes: () => offered } });
    const index = await new Browser(s.ui, 'alice').get(`${BASE}/`);
    expect(index.status).toBe(200);
    const links = tags(index.text)
      .filter((t) => t.name === 'a')
      .map((t) => t.attributes.get('href'));
    expect(links).toContain(`${BASE}/acme/webhooks`);
    expect(links).toContain(`${BASE}/other/webhooks`);
    expect(index.text).not.toContain('secret-scope');
    expect(location(await new Browser(s.ui, 'acme-only').get(`${BASE}/`))).toBe(`${BASE}/acme/webhooks`);
    expect((await new Browser(s.ui, null).get(`${BASE}/`)).status).toBe(401);
  });

  it('redirects a scope to its webhooks with 303', async () => {
    const s = setup();
    const browser = new Browser(s.ui);
    expect(location(await browser.get(`${BASE}/acme`))).toBe(`${BASE}/acme/webhooks`);
    expect(location(await browser.get(`${BASE}/acme/`))).toBe(`${BASE}/acme/webhooks`);
  });

  it('answers 404 for unknown paths, bad and unknown ids', async () => {
    const { ui, hook } = await populated();
    const browser = new Browser(ui);
    for (const path of [
      `${BASE}/acme/nothing`,
      `${BASE}/acme/webhooks/abc`,
      `${BASE}/acme/webhooks/0`,
      `${BASE}/acme/webhooks/-1`,
      `${BASE}/acme/webhooks/1.5`,
      `${BASE}/acme/webhooks/99999999999999999999`,
      `${BASE}/acme/webhooks/${hook.id + 100}`,
      `${BASE}/acme/deliveries/msg_doesnotexist`,
      `${BASE}/acme/deliveries/%E0%A4%A`,
      `${BASE}/acme/webhooks/${hook.id}/ping/again/more`,
      `${BASE}/acme//webhooks`,
      `${BASE}/assets/hookline-ui.0000000000.css`,
      `${BASE}/assets`,
    ]) {
      const result = await browser.get(path);
      expect(result.status, path).toBe(404);
      expect(isUnmatched(result.response), path).toBe(false);
    }
  });

  it('marks paths outside the base path unmatched, so combineHandlers reaches the next handler', async () => {
    const s = setup();
    for (const path of ['/', '/api/webhooks', '/uix', '/uix/acme/webhooks', '/u', '/UI/acme/webhooks']) {
      const response = await s.ui(new Request(`${ORIGIN}${path}`, { headers: { 'x-user': 'alice' } }));
      expect(response.status, path).toBe(404);
      expect(isUnmatched(response), path).toBe(true);
    }
    const seen: string[] = [];
    const other = async (request: Request) => {
      seen.push(new URL(request.url).pathname);
      return new Response('other', { status: 200 });
    };
    const both = combineHandlers(s.ui, other);
    const outside = await answer(await both(new Request(`${ORIGIN}/uix/acme`)));
    expect(outside.text).toBe('other');
    const inside = await answer(
      await both(new Request(`${ORIGIN}${BASE}/acme/webhooks`, { headers: { 'x-user': 'alice' } })),
    );
    expect(inside.status).toBe(200);
    expect(inside.text).toContain('<h1>Webhooks');
    // A 404 of the UI's own (below its base path) is not passed on.
    const missing = await both(
      new Request(`${ORIGIN}${BASE}/acme/nothing`, { headers: { 'x-user': 'alice' } }),
    );
    expect(missing.status).toBe(404);
    expect(seen).toEqual(['/uix/acme']);
  });

  it('claims every path when mounted at the root', async () => {
    const s = setup({ ui: { basePath: '' } });
    const browser = new Browser(s.ui);
    expect(location(await browser.get('/acme'))).toBe('/acme/webhooks');
    const missing = await browser.get('/acme/nothing');
    expect(missing.status).toBe(404);
    expect(isUnmatched(missing.response)).toBe(false);
  });

  it('answers 405 with Allow for methods a path does not serve', async () => {
    const { ui, hook, deliveryId } = await populated();
    const browser = new Browser(ui);
    const cases: [string, string, string][] = [
      ['PUT', `${BASE}/acme/webhooks`, 'GET, HEAD'],
      ['DELETE', `${BASE}/acme/webhooks/${hook.id}`, 'GET, HEAD'],
      ['DELETE', `${BASE}/acme/deliveries/${deliveryId}`, 'GET, HEAD'],
      ['PATCH', `${BASE}/`, 'GET, HEAD'],
      ['POST', `${BASE}/`, 'GET, HEAD'],
      ['PUT', `${BASE}/acme/webhooks/${hook.id}/disable`, 'POST'],
      ['GET', `${BASE}/acme/webhooks/${hook.id}/disable`, 'POST'],
      ['GET', `${BASE}/acme/deliveries/${deliveryId}/redeliver`, 'POST'],
      ['GET', `${BASE}/acme/recover`, 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const result = await browser.request(method, path);
      expect(result.status, `${method} ${path}`).toBe(405);
      expect(result.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
    expect((await browser.request('OPTIONS', `${BASE}/acme/webhooks`)).status).toBe(405);
  });

  it('answers HEAD like GET, without a body', async () => {
    const { ui, hook, deliveryId } = await populated();
    const browser = new Browser(ui);
    await browser.get(`${BASE}/`); // holds the cookie from now on: no Set-Cookie differs
    const paths = [
      `${BASE}/`,
      `${BASE}/acme`,
      `${BASE}/acme/webhooks`,
      `${BASE}/acme/webhooks/${hook.id}`,
      `${BASE}/acme/deliveries`,
      `${BASE}/acme/deliveries/${deliveryId}`,
      `${BASE}/acme/deliveries?state=nope`,
      `${BASE}/acme/nothing`,
      `${BASE}/acme/deliveries/msg_doesnotexist`,
      `${BASE}/acme/webhooks/${hook.id}/disable`,
      ...[...(await assetUrls(browser))],
    ];
    for (const path of paths) {
      const get = await browser.get(path);
      const head = await browser.request('HEAD', path);
      expect(head.status, path).toBe(get.status);
      expect([...head.headers.entries()], path).toEqual([...get.headers.entries()]);
      expect(head.text, path).toBe('');
      if (get.status !== 303) expect(get.text, path).not.toBe('');
    }
  });
});

/** The stylesheet and script URLs a page links to. */
async function assetUrls(browser: Browser): Promise<Set<string>> {
  const page = await browser.get(`${BASE}/`);
  const urls = new Set<string>();
  for (const tag of tags(page.text)) {
    if (tag.name === 'link') urls.add(tag.attributes.get('href') ?? '');
    if (tag.name === 'script') urls.add(tag.attributes.get('src') ?? '');
  }
  return urls;
}

function expectSecurityHeaders(result: Answer, what: string): void {
  expect(result.headers.get('content-security-policy'), what).toBe(CONTENT_SECURITY_POLICY);
  expect(result.headers.get('x-frame-options'), what).toBe('DENY');
  expect(result.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(result.headers.get('referrer-policy'), what).toBe('same-origin');
}

describe('headers', () => {
  it('the CSP is the documented one', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
  });

  it('every answer has the security headers; pages, errors and redirects are not stored', async () => {
    const { ui, hook, deliveryId } = await populated({
      ui: { onUnauthenticated: () => new Response('sign in', { status: 401 }) },
    });
    const alice = new Browser(ui, 'alice');
    const reader = new Browser(ui, 'reader');
    // A read-only user with a valid cookie and token (taken from a page of a user who may write).
    const token = findForm((await alice.get(`${BASE}/acme/webhooks`)).text, `${BASE}/acme/recover`)?.hidden
      ._csrf;
    reader.cookie = alice.cookie;
    const answers: [string, Answer, number][] = [
      ['index', await alice.get(`${BASE}/`), 200],
      ['webhooks', await alice.get(`${BASE}/acme/webhooks`), 200],
      ['webhook', await alice.get(`${BASE}/acme/webhooks/${hook.id}`), 200],
      ['deliveries', await alice.get(`${BASE}/acme/deliveries`), 200],
      ['delivery', await alice.get(`${BASE}/acme/deliveries/${deliveryId}`), 200],
      ['redirect', await alice.get(`${BASE}/acme`), 303],
      ['not found', await alice.get(`${BASE}/acme/nothing`), 404],
      ['not found (store)', await alice.get(`${BASE}/acme/deliveries/msg_nope`), 404],
      ['not readable', await new Browser(ui, 'bob').get(`${BASE}/acme/webhooks`), 404],
      ['bad filter', await alice.get(`${BASE}/acme/deliveries?state=nope`), 400],
      ['no csrf', await alice.post(`${BASE}/acme/webhooks/${hook.id}/disable`, {}), 403],
      [
        'read only',
        await reader.post(`${BASE}/acme/recover`, { _csrf: token ?? '', since: '24h', states: 'failed' }),
        403,
      ],
      ['method', await alice.request('PUT', `${BASE}/acme/webhooks`), 405],
      ['unauthenticated', await new Browser(ui, null).get(`${BASE}/acme/webhooks`), 401],
      [
        'action',
        await alice.submit(`${BASE}/acme/webhooks/${hook.id}`, `${BASE}/acme/webhooks/${hook.id}/disable`),
        303,
      ],
      ['boom', await new Browser(ui, 'boom').get(`${BASE}/acme/webhooks`), 500],
    ];
    for (const [what, result, status] of answers) {
      expect(result.status, what).toBe(status);
      expectSecurityHeaders(result, what);
      if (what === 'unauthenticated') {
        // The host's own answer (onUnauthenticated), with the security headers added.
        expect(result.text).toBe('sign in');
        continue;
      }
      expect(result.headers.get('cache-control'), what).toBe('no-store');
      if (status !== 303) expect(result.headers.get('content-type'), what).toBe('text/html; charset=utf-8');
    }
    const outside = await answer(await ui(new Request(`${ORIGIN}/elsewhere`)));
    expectSecurityHeaders(outside, 'outside');
  });

  it('pages link to assets that exist; assets are immutable with their content type', async () => {
    const { ui, hook, deliveryId } = await populated();
    const browser = new Browser(ui);
    const linked = new Map<string, string>();
    for (const path of [
      `${BASE}/`,
      `${BASE}/acme/webhooks`,
      `${BASE}/acme/webhooks/${hook.id}`,
      `${BASE}/acme/deliveries`,
      `${BASE}/acme/deliveries/${deliveryId}`,
      `${BASE}/acme/nothing`,
    ]) {
      const page = await browser.get(path);
      for (const tag of tags(page.text)) {
        if (tag.name === 'link' && tag.attributes.get('rel') === 'stylesheet')
          linked.set(tag.attributes.get('href') ?? '', 'text/css; charset=utf-8');
        if (tag.name === 'script')
          linked.set(tag.attributes.get('src') ?? '', 'text/javascript; charset=utf-8');
      }
    }
    expect(linked.size).toBe(2);
    for (const [url, type] of linked) {
      expect(url).toMatch(/^\/ui\/assets\/hookline-ui\.[0-9a-f]{10}\.(css|js)$/);
      const asset = await browser.get(url);
      expect(asset.status, url).toBe(200);
      expect(asset.headers.get('content-type'), url).toBe(type);
      expect(asset.headers.get('cache-control'), url).toBe('public, max-age=31536000, immutable');
      // Without a cookie too: a public, year-long cached answer never sets one.
      const fresh = await ui(new Request(`${ORIGIN}${url}`));
      expect(fresh.status, url).toBe(200);
      expect(fresh.headers.get('set-cookie'), url).toBeNull();
      expectSecurityHeaders(asset, url);
      expect(asset.text.length, url).toBeGreaterThan(100);
      expect((await browser.request('POST', url)).status, url).toBe(405);
    }
  });
});

describe('markup', () => {
  it('has no inline script, event handler attribute, style attribute or javascript: URL', async () => {
    const { ui, hook, deliveryId, registry } = await populated();
    await registry.cancel('acme', (await registry.ping('acme', hook.id)).id);
    const pinged = await registry.searchDeliveries('acme', { types: ['hookline.ping'] });
    const browser = new Browser(ui);
    const paths = [
      `${BASE}/`,
      `${BASE}/acme/webhooks`,
      `${BASE}/acme/webhooks/${hook.id}`,
      `${BASE}/acme/deliveries`,
      `${BASE}/acme/deliveries?state=failed&since=24h`,
      `${BASE}/acme/deliveries/${deliveryId}`,
      `${BASE}/acme/deliveries/${pinged.items[0]?.id}`,
      `${BASE}/acme/webhooks?notice=disabled`,
      `${BASE}/acme/nothing`,
      `${BASE}/acme/deliveries?since=never`,
    ];
    for (const path of paths) {
      const page = await browser.get(path);
      expect(page.text, path).toMatch(/^<!doctype html>/);
      const found = tags(page.text);
      expect(found.length, path).toBeGreaterThan(10);
      for (const tag of found) {
        const where = `${path}: <${tag.name}> at ${tag.index}`;
        expect(tag.name, where).not.toBe('style');
        expect(['iframe', 'object', 'embed', 'base', 'img'], where).not.toContain(tag.name);
        if (tag.name === 'script') {
          expect(tag.attributes.get('src'), where).toMatch(/^\/ui\/assets\//);
          expect(page.text.slice(tag.index).match(/^<script[^>]*><\/script>/), where).not.toBeNull();
        }
        for (const [name, value] of tag.attributes) {
          expect(name.startsWith('on'), `${where} ${name}`).toBe(false);
          expect(name, where).not.toBe('style');
          if (['href', 'src', 'action'].includes(name)) {
            expect(value.startsWith('/ui/'), `${where} ${name}=${value}`).toBe(true);
          }
          expect(value, `${where} ${name}`).not.toMatch(/&quot;|javascript:/i);
        }
      }
    }
    // The POST forms carry the CSRF field; the GET forms do not.
    const page = await browser.get(`${BASE}/acme/webhooks/${hook.id}`);
    const posts = forms(page.text).filter((f) => f.method === 'post');
    expect(posts.length).toBeGreaterThanOrEqual(3);
    for (const form of posts) expect(form.hidden._csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(findForm(page.text, `${BASE}/acme/webhooks/${hook.id}/recover`)).not.toBeNull();
  });
});
