/**
 * deliveryLogUi(): authorization per scope (read, write, unauthenticated, a failing
 * authorize), scope isolation of ids, and the CSRF protection of every POST.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/index.js';
import { deliveryLogUi } from '../../src/ui/index.js';
import {
  AUTHORIZE_FAILURE,
  authorize,
  BASE,
  Browser,
  findForm,
  forms,
  HOUR,
  location,
  ORIGIN,
  rowIds,
  SECRET,
  type Setup,
  setup,
  tags,
} from './handler-helpers.js';

let current: Setup | null = null;
afterEach(async () => {
  await current?.worker.stop();
  current = null;
});

/**
 * Two scopes: acme (webhook `a`, a failed delivery `dA`) and other (webhook `o` with a
 * recognizable URL and comment, a failed delivery `dO` of notification `ntf-other-1`).
 */
async function twoScopes(options: Parameters<typeof setup>[0] = {}) {
  const s = setup({
    respond: () => 500,
    ...options,
    registry: { retryPolicy: { name: 'none', delaysMs: [] }, ...options.registry },
  });
  current = s;
  const a = await s.registry.create('acme', { url: 'https://acme.example/hook', eventTypes: ['order.paid'] });
  const o = await s.registry.create('other', {
    url: 'https://other-receiver.example/hook',
    eventTypes: ['order.paid'],
    comment: 'OTHER-SCOPE-MARKER',
  });
  const dA = (await s.registry.emit({ scope: 'acme', type: 'order.paid', data: {} }))
    .deliveryIds[0] as string;
  const dO = (await s.registry.emit({ id: 'ntf-other-1', scope: 'other', type: 'order.paid', data: {} }))
    .deliveryIds[0] as string;
  await s.worker.drain();
  s.clock.advance(HOUR);
  expect((await s.registry.getDelivery('acme', dA)).state).toBe('failed');
  expect((await s.registry.getDelivery('other', dO)).state).toBe('failed');
  return { ...s, a, o, dA, dO };
}

type Fixture = Awaited<ReturnType<typeof twoScopes>>;

/** What the tests check stays unchanged after a refused POST. */
async function snapshot(f: Fixture) {
  const [a, o, dA, dO, acme, other] = await Promise.all([
    f.registry.get('acme', f.a.id),
    f.registry.get('other', f.o.id),
    f.registry.getDelivery('acme', f.dA),
    f.registry.getDelivery('other', f.dO),
    f.registry.searchDeliveries('acme', { limit: 500 }),
    f.registry.searchDeliveries('other', { limit: 500 }),
  ]);
  return {
    a: a.enabled,
    o: o.enabled,
    dA: [dA.state, dA.attemptCount],
    dO: [dO.state, dO.attemptCount],
    acme: acme.items.map((d) => `${d.id} ${d.state}`),
    other: other.items.map((d) => `${d.id} ${d.state}`),
  };
}

/** A cookie and the acme form token, from alice's page. */
async function aliceToken(f: Fixture, scope = 'acme', page = `${BASE}/${scope}/webhooks`) {
  const alice = new Browser(f.ui, 'alice');
  const got = await alice.get(page);
  const token = forms(got.text).find((form) => form.method === 'post')?.hidden._csrf;
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { cookie: alice.cookie as string, token: token as string };
}

describe('authorization', () => {
  it('a scope the user may not read answers the 404 of a scope that does not exist', async () => {
    const f = await twoScopes();
    const bob = new Browser(f.ui, 'bob');
    const nowhere = await bob.get(`${BASE}/no-such-scope/webhooks`);
    expect(nowhere.status).toBe(404);
    for (const path of [
      `${BASE}/acme`,
      `${BASE}/acme/webhooks`,
      `${BASE}/acme/webhooks/${f.a.id}`,
      `${BASE}/acme/deliveries`,
      `${BASE}/acme/deliveries?state=nope`,
      `${BASE}/acme/deliveries/${f.dA}`,
      `${BASE}/acme/deliveries/msg_doesnotexist`,
    ]) {
      const result = await bob.get(path);
      expect(result.status, path).toBe(404);
      expect(result.text, path).toBe(nowhere.text);
      expect(result.text, path).not.toMatch(/acme|order\.paid/);
    }
    // Bob's own scope works.
    expect((await bob.get(`${BASE}/other/webhooks`)).status).toBe(200);
    // Nor can he change anything there, with a valid cookie and token.
    const before = await snapshot(f);
    const { cookie, token } = await aliceToken(f);
    bob.cookie = cookie;
    for (const action of [
      `${BASE}/acme/webhooks/${f.a.id}/disable`,
      `${BASE}/acme/deliveries/${f.dA}/redeliver`,
      `${BASE}/acme/recover`,
    ]) {
      const result = await bob.post(action, { _csrf: token, since: '7d', states: 'failed' });
      expect(result.status, action).toBe(404);
      expect(result.text, action).not.toContain('acme');
    }
    expect(await snapshot(f)).toEqual(before);
  });

  it("'unauthenticated' and 'invalid_token' answer a 401 page, or onUnauthenticated's answer", async () => {
    const f = await twoScopes();
    for (const user of [null, 'expired', 'nobody-we-know']) {
      const result = await new Browser(f.ui, user).get(`${BASE}/acme/webhooks`);
      expect(result.status, String(user)).toBe(401);
      expect(result.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(result.text).toContain('signed in');
      expect(result.text).not.toContain(f.a.url);
    }
    const seen: string[] = [];
    const basic = deliveryLogUi(f.registry, {
      authorize,
      basePath: BASE,
      onUnauthenticated: (request) => {
        seen.push(new URL(request.url).pathname);
        return new Response('credentials, please', {
          status: 401,
          headers: { 'www-authenticate': 'Basic realm="webhooks"' },
        });
      },
    });
    const challenged = await new Browser(basic, 'expired').get(`${BASE}/acme/deliveries`);
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get('www-authenticate')).toBe('Basic realm="webhooks"');
    expect(challenged.text).toBe('credentials, please');
    expect(challenged.headers.get('x-frame-options')).toBe('DENY');
    expect(seen).toEqual([`${BASE}/acme/deliveries`]);

    // A redirect to the host's login page (Response.redirect has immutable headers).
    const login = deliveryLogUi(f.registry, {
      authorize,
      basePath: BASE,
      onUnauthenticated: () => Response.redirect('https://login.example/?next=ui', 302),
    });
    const redirected = await new Browser(login, null).get(`${BASE}/acme/webhooks`);
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe('https://login.example/?next=ui');
    expect(redirected.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");

    // A POST without credentials changes nothing.
    const before = await snapshot(f);
    const { cookie, token } = await aliceToken(f);
    const anonymous = new Browser(f.ui, null);
    anonymous.cookie = cookie;
    expect((await anonymous.post(`${BASE}/acme/webhooks/${f.a.id}/disable`, { _csrf: token })).status).toBe(
      401,
    );
    expect(await snapshot(f)).toEqual(before);
  });

  it('without write permission the pages have no action forms and every action is 403', async () => {
    const f = await twoScopes();
    const reader = new Browser(f.ui, 'reader');
    const alice = new Browser(f.ui, 'alice');
    for (const path of [
      `${BASE}/acme/webhooks`,
      `${BASE}/acme/webhooks/${f.a.id}`,
      `${BASE}/acme/deliveries`,
      `${BASE}/acme/deliveries/${f.dA}`,
    ]) {
      const readOnly = await reader.get(path);
      const writable = await alice.get(path);
      expect(readOnly.status, path).toBe(200);
      expect(
        forms(readOnly.text).filter((form) => form.method === 'post'),
        path,
      ).toEqual([]);
      expect(readOnly.text, path).not.toMatch(/_csrf|>(Redeliver|Disable|Send test ping|Recover)</);
      // The same page for a user who may write has them (the check above can fail).
      if (!path.endsWith('/deliveries')) expect(writable.text, path).toContain('name="_csrf"');
    }
    expect(forms((await reader.get(`${BASE}/acme/deliveries`)).text).map((f) => f.method)).toEqual(['get']);

    const before = await snapshot(f);
    const { cookie, token } = await aliceToken(f);
    reader.cookie = cookie;
    for (const [action, fields] of [
      [`${BASE}/acme/webhooks/${f.a.id}/disable`, {}],
      [`${BASE}/acme/webhooks/${f.a.id}/ping`, {}],
      [`${BASE}/acme/webhooks/${f.a.id}/recover`, { since: '7d', states: 'failed' }],
      [`${BASE}/acme/deliveries/${f.dA}/redeliver`, {}],
      [`${BASE}/acme/recover`, { since: '7d', states: 'failed' }],
    ] as const) {
      const result = await reader.post(action, { _csrf: token, ...fields });
      expect(result.status, action).toBe(403);
      expect(result.text, action).toContain('may look at this scope but not change it');
    }
    expect(await snapshot(f)).toEqual(before);
  });

  it('a throwing authorize is a 500 page; the error goes to onError, never to the page', async () => {
    const f = await twoScopes();
    const result = await new Browser(f.ui, 'boom').get(`${BASE}/acme/webhooks`);
    expect(result.status).toBe(500);
    expect(result.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(result.text).toContain('Something went wrong');
    expect(result.text).not.toContain(AUTHORIZE_FAILURE);
    expect(result.text).not.toContain('hunter2');
    expect(f.errors).toHaveLength(1);
    expect(String(f.errors[0])).toContain(AUTHORIZE_FAILURE);

    // An onError that throws itself changes nothing for the user.
    const failing = deliveryLogUi(f.registry, {
      authorize,
      basePath: BASE,
      onError: () => {
        throw new Error('the error log is down');
      },
    });
    expect((await new Browser(failing, 'boom').get(`${BASE}/acme/deliveries`)).status).toBe(500);

    // Without onError, the registry's logger hears it.
    const logged: [Record<string, unknown>, string][] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (fields, message) => logged.push([fields, message]),
    };
    const withLogger = setup({ registry: { logger } });
    const page = await new Browser(withLogger.ui, 'boom').get(`${BASE}/acme/webhooks`);
    expect(page.status).toBe(500);
    expect(withLogger.errors).toHaveLength(1); // the setup's onError
    const plain = deliveryLogUi(withLogger.registry, { authorize, basePath: BASE });
    expect((await new Browser(plain, 'boom').get(`${BASE}/acme/webhooks`)).status).toBe(500);
    expect(logged).toHaveLength(1);
    expect(logged[0]?.[0]).toMatchObject({ method: 'GET', path: `${BASE}/acme/webhooks` });
    expect(String(logged[0]?.[0].err)).toContain(AUTHORIZE_FAILURE);
  });
});

describe('scope isolation', () => {
  it("another scope's ids under acme's URLs are 404, for pages and actions", async () => {
    const f = await twoScopes();
    const alice = new Browser(f.ui, 'alice'); // may read and write both scopes
    expect((await alice.get(`${BASE}/other/deliveries/${f.dO}`)).status).toBe(200);
    expect((await alice.get(`${BASE}/other/webhooks/${f.o.id}`)).status).toBe(200);
    for (const path of [`${BASE}/acme/deliveries/${f.dO}`, `${BASE}/acme/webhooks/${f.o.id}`]) {
      const result = await alice.get(path);
      expect(result.status, path).toBe(404);
      expect(result.text).not.toMatch(/other-receiver|OTHER-SCOPE-MARKER|ntf-other-1/);
    }
    const before = await snapshot(f);
    const { cookie, token } = await aliceToken(f);
    alice.cookie = cookie;
    for (const action of [
      `${BASE}/acme/deliveries/${f.dO}/redeliver`,
      `${BASE}/acme/deliveries/${f.dO}/cancel`,
      `${BASE}/acme/webhooks/${f.o.id}/disable`,
      `${BASE}/acme/webhooks/${f.o.id}/ping`,
      `${BASE}/acme/webhooks/${f.o.id}/recover`,
    ]) {
      const result = await alice.post(action, { _csrf: token, since: '7d', states: 'failed' });
      expect(result.status, action).toBe(404);
    }
    expect(await snapshot(f)).toEqual(before);
  });

  it("acme's lists never show the other scope's webhooks or deliveries, whatever the filter", async () => {
    const f = await twoScopes();
    const alice = new Browser(f.ui, 'alice');
    const webhooks = await alice.get(`${BASE}/acme/webhooks`);
    expect(rowIds(webhooks.text, 'data-webhook-id')).toEqual([String(f.a.id)]);
    const all = await alice.get(`${BASE}/acme/deliveries`);
    expect(rowIds(all.text, 'data-delivery-id')).toEqual([f.dA]);
    expect(all.text).not.toMatch(/other-receiver|OTHER-SCOPE-MARKER/);
    const options = tags(all.text)
      .filter((t) => t.name === 'option')
      .map((t) => t.attributes.get('value'));
    expect(options).not.toContain(String(f.o.id));
    for (const query of [
      `q=ntf-other-1`,
      `q=${f.dO}`,
      `webhook=${f.o.id}`,
      `webhook=${f.o.id}&state=failed`,
      `q=${f.dO}&webhook=${f.o.id}`,
    ]) {
      const result = await alice.get(`${BASE}/acme/deliveries?${query}`);
      expect(result.status, query).toBe(200);
      expect(rowIds(result.text, 'data-delivery-id'), query).toEqual([]);
    }
    // The same searches in the other scope find them (the queries above could match).
    expect(
      rowIds((await alice.get(`${BASE}/other/deliveries?q=ntf-other-1`)).text, 'data-delivery-id'),
    ).toEqual([f.dO]);
  });
});

describe('CSRF', () => {
  it('refuses a POST without a valid token for its cookie and scope, or from another site', async () => {
    const f = await twoScopes();
    const action = `${BASE}/acme/webhooks/${f.a.id}/disable`;
    const alice = new Browser(f.ui, 'alice');
    const page = await alice.get(`${BASE}/acme/webhooks/${f.a.id}`);
    const token = findForm(page.text, action)?.hidden._csrf as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const otherScopeToken = findForm(
      (await alice.get(`${BASE}/other/webhooks/${f.o.id}`)).text,
      `${BASE}/other/webhooks/${f.o.id}/disable`,
    )?.hidden._csrf as string;
    expect(otherScopeToken).not.toBe(token);
    const stranger = new Browser(f.ui, 'alice');
    await stranger.get(`${BASE}/acme/webhooks`);
    expect(stranger.cookie).not.toBe(alice.cookie);
    const cookie = alice.cookie as string;

    const before = await snapshot(f);
    const refused: [string, Record<string, string>, Record<string, string>][] = [
      ['no field', {}, { cookie }],
      ['empty field', { _csrf: '' }, { cookie }],
      ['wrong token', { _csrf: `${token.slice(0, 42)}${token.endsWith('A') ? 'B' : 'A'}` }, { cookie }],
      ['token of another scope', { _csrf: otherScopeToken }, { cookie }],
      ['no cookie', { _csrf: token }, {}],
      ["another browser's cookie", { _csrf: token }, { cookie: stranger.cookie as string }],
      ['cookie as token', { _csrf: cookie.split('=')[1] as string }, { cookie }],
      ['cross-site', { _csrf: token }, { cookie, 'sec-fetch-site': 'cross-site' }],
      ['same-site', { _csrf: token }, { cookie, 'sec-fetch-site': 'same-site' }],
    ];
    for (const [what, fields, headers] of refused) {
      const browser = new Browser(f.ui, 'alice');
      const result = await browser.post(action, fields, headers);
      expect(result.status, what).toBe(403);
      expect(result.text, what).toContain('security token does not match');
      expect(result.headers.get('set-cookie'), what).toBeNull();
    }
    // The token in the query string instead of the form does not count either.
    const inQuery = await new Browser(f.ui, 'alice').post(`${action}?_csrf=${token}`, {}, { cookie });
    expect(inQuery.status).toBe(403);
    expect(await snapshot(f)).toEqual(before);

    const accepted = await new Browser(f.ui, 'alice').post(
      action,
      { _csrf: token },
      { cookie, 'sec-fetch-site': 'same-origin' },
    );
    expect(location(accepted)).toBe(`${BASE}/acme/webhooks/${f.a.id}?notice=disabled`);
    expect((await f.registry.get('acme', f.a.id)).enabled).toBe(false);
  });

  it('a token is valid only for the secret that signed it', async () => {
    const f = await twoScopes();
    const { cookie, token } = await aliceToken(f);
    const post = (handler: typeof f.ui) => {
      const browser = new Browser(handler, 'alice');
      browser.cookie = cookie;
      return browser.post(`${BASE}/acme/webhooks/${f.a.id}/disable`, { _csrf: token });
    };
    const otherSecret = deliveryLogUi(f.registry, { authorize, basePath: BASE, csrfSecret: 'b'.repeat(40) });
    const randomSecret = deliveryLogUi(f.registry, { authorize, basePath: BASE });
    expect((await post(otherSecret)).status).toBe(403);
    expect((await post(randomSecret)).status).toBe(403);
    expect((await f.registry.get('acme', f.a.id)).enabled).toBe(true);
    // Another process with the same secret accepts it.
    const sameSecret = deliveryLogUi(f.registry, { authorize, basePath: BASE, csrfSecret: SECRET });
    expect((await post(sameSecret)).status).toBe(303);
    expect((await f.registry.get('acme', f.a.id)).enabled).toBe(false);

    // Two instances with random secrets refuse each other's tokens.
    const first = deliveryLogUi(f.registry, { authorize, basePath: BASE });
    const browser = new Browser(first, 'alice');
    const page = await browser.get(`${BASE}/acme/webhooks/${f.a.id}`);
    const enable = `${BASE}/acme/webhooks/${f.a.id}/enable`;
    const fields = findForm(page.text, enable)?.hidden ?? {};
    const second = new Browser(deliveryLogUi(f.registry, { authorize, basePath: BASE }), 'alice');
    second.cookie = browser.cookie;
    expect((await second.post(enable, fields)).status).toBe(403);
    expect((await browser.post(enable, fields)).status).toBe(303);
  });

  it('GET pages set the cookie once: HttpOnly, SameSite=Strict, the base path, Secure on https', async () => {
    const f = await twoScopes();
    const browser = new Browser(f.ui, 'alice');
    const first = await browser.get(`${BASE}/acme/webhooks`);
    expect(first.headers.get('set-cookie')).toMatch(
      /^hookline_csrf=[A-Za-z0-9_-]{43}; Path=\/ui; HttpOnly; SameSite=Strict; Secure$/,
    );
    const token = forms(first.text).find((form) => form.method === 'post')?.hidden._csrf;
    const again = await browser.get(`${BASE}/acme/webhooks/${f.a.id}`);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(forms(again.text).find((form) => form.method === 'post')?.hidden._csrf).toBe(token);
    // A cookie that is not one of ours is replaced.
    const odd = await new Browser(f.ui, 'alice').get(`${BASE}/acme/webhooks`, {
      cookie: 'hookline_csrf=abc',
    });
    expect(odd.headers.get('set-cookie')).toMatch(/^hookline_csrf=[A-Za-z0-9_-]{43};/);
    // Error pages set none.
    const missing = await new Browser(f.ui, 'alice').get(`${BASE}/acme/nothing`);
    expect(missing.headers.get('set-cookie')).toBeNull();

    const plain = await f.ui(
      new Request(`http://localhost${BASE}/acme/webhooks`, { headers: { 'x-user': 'alice' } }),
    );
    expect(plain.headers.get('set-cookie')).toMatch(/; SameSite=Strict$/);
    const forced = deliveryLogUi(f.registry, { authorize, basePath: BASE, secureCookies: true });
    expect(
      (
        await forced(new Request(`http://localhost${BASE}/acme/webhooks`, { headers: { 'x-user': 'alice' } }))
      ).headers.get('set-cookie'),
    ).toMatch(/; Secure$/);
    const root = deliveryLogUi(f.registry, { authorize, secureCookies: false });
    expect(
      (await root(new Request(`${ORIGIN}/acme/webhooks`, { headers: { 'x-user': 'alice' } }))).headers.get(
        'set-cookie',
      ),
    ).toMatch(/; Path=\/; HttpOnly; SameSite=Strict$/);
  });
});
