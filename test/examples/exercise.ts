/**
 * What every HTTP example must do over real HTTP, whatever framework serves it: create, list and
 * read webhooks in both dialects, refuse requests without (or with unknown) credentials, report
 * pretix's field errors, and refuse an oversized body. Requests never follow redirects: pretix's
 * URLs end in a slash and must be answered as they are (a framework's trailing-slash redirect
 * would break pretix clients).
 */
import { expect } from 'vitest';

const PRETIX = { authorization: 'Token demo-token-bigevents', 'content-type': 'application/json' };
const TALER = { authorization: 'Bearer demo-token-merchant', 'content-type': 'application/json' };

/** `fetch` that never follows a redirect. */
function request(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, redirect: 'manual' });
}

/**
 * Exercises an example whose pretix API is at `pretix` (the `/api/v1` base URL) and whose Taler
 * API is at `taler` (the base URL of `/private/webhooks`). The example must start empty.
 */
export async function exerciseExample({ pretix, taler }: { pretix: string; taler: string }): Promise<void> {
  const base = `${pretix}/organizers/bigevents/webhooks/`;

  const created = await request(base, {
    method: 'POST',
    headers: PRETIX,
    body: JSON.stringify({
      target_url: 'https://receiver.example/h',
      action_types: ['pretix.event.order.paid'],
    }),
  });
  expect(created.status, `POST ${base}`).toBe(201);
  expect(await created.json()).toMatchObject({ id: 1, action_types: ['pretix.event.order.paid'] });

  const list = await request(base, { headers: PRETIX });
  expect(list.status, `GET ${base}`).toBe(200);
  expect(await list.json()).toMatchObject({ count: 1, next: null, previous: null });
  expect((await request(`${base}1/`, { headers: PRETIX })).status, `GET ${base}1/`).toBe(200);
  // hookline accepts pretix's URLs without the slash too.
  expect((await request(`${base}1`, { headers: PRETIX })).status, `GET ${base}1`).toBe(200);
  const patched = await request(`${base}1/`, {
    method: 'PATCH',
    headers: PRETIX,
    body: JSON.stringify({ comment: 'patched' }),
  });
  expect(patched.status, `PATCH ${base}1/`).toBe(200);
  expect(await patched.json()).toMatchObject({ id: 1, comment: 'patched' });

  const anonymous = await request(base);
  expect(anonymous.status).toBe(401);
  expect(await anonymous.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
  const unknownToken = await request(base, { headers: { authorization: 'Token not-a-demo-token' } });
  expect(unknownToken.status).toBe(401);
  expect(await unknownToken.json()).toEqual({ detail: 'Invalid token.' });
  const inherited = await request(base, { headers: { authorization: 'Token toString' } });
  expect(inherited.status).toBe(401);
  const bad = await request(base, {
    method: 'POST',
    headers: PRETIX,
    body: '{"target_url": "x", "action_types": []}',
  });
  expect(bad.status).toBe(400);
  expect(await bad.json()).toEqual({ target_url: ['Enter a valid URL.'] });

  const talerList = `${taler}/private/webhooks`;
  const hook = {
    webhook_id: 'w1',
    event_type: 'pay',
    url: 'https://receiver.example/t',
    http_method: 'POST',
  };
  const posted = await request(talerList, { method: 'POST', headers: TALER, body: JSON.stringify(hook) });
  expect(posted.status, `POST ${talerList}`).toBe(204);
  expect(await (await request(talerList, { headers: TALER })).json()).toEqual({
    webhooks: [{ webhook_id: 'w1', event_type: 'pay' }],
  });
  expect(await (await request(`${talerList}/w1`, { headers: TALER })).json()).toEqual({
    event_type: 'pay',
    url: 'https://receiver.example/t',
    http_method: 'POST',
  });
  const refused = await request(talerList);
  expect(refused.status).toBe(401);
  expect(await refused.json()).toMatchObject({ code: 2015 });

  const tooBig = await request(base, {
    method: 'POST',
    headers: PRETIX,
    body: `"${'x'.repeat(2 * 1024 * 1024)}"`,
  });
  expect(tooBig.status).toBe(413);
}

/** `Authorization: Basic` for a browser logged in with a demo token as its password. */
export function basicAuth(token: string): string {
  return `Basic ${Buffer.from(`demo:${token}`).toString('base64')}`;
}

/**
 * Checks an example's delivery-log UIs over real HTTP, after {@link exerciseExample} created
 * pretix webhook 1 in `bigevents` and Taler webhook `w1` in `default`: each UI asks a browser
 * to log in (HTTP Basic), sends a logged-in user on to their scope, lists the webhook, keeps
 * other scopes hidden (404), and sends its security headers.
 */
export async function exerciseUi({
  pretixUi,
  talerUi,
}: {
  pretixUi: string;
  talerUi: string;
}): Promise<void> {
  const cases = [
    { ui: pretixUi, token: 'demo-token-bigevents', scope: 'bigevents', hidden: 'shop' },
    { ui: talerUi, token: 'demo-token-merchant', scope: 'default', hidden: 'bigevents' },
  ];
  for (const { ui, token, scope, hidden } of cases) {
    const anonymous = await request(`${ui}/${scope}/webhooks`);
    expect(anonymous.status, `GET ${ui}/${scope}/webhooks without credentials`).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="hookline"/);
    const wrong = await request(`${ui}/${scope}/webhooks`, { headers: { authorization: basicAuth('nope') } });
    expect(wrong.status).toBe(401);

    const headers = { authorization: basicAuth(token) };
    const index = await request(`${ui}/`, { headers });
    if (scope === 'bigevents') {
      // One scope: the index sends the user straight there.
      expect(index.status, `GET ${ui}/`).toBe(303);
      expect(new URL(index.headers.get('location') ?? '', ui).pathname).toBe(
        `${new URL(ui).pathname}/${scope}/webhooks`,
      );
    } else {
      expect(index.status, `GET ${ui}/`).toBe(200);
      expect(await index.text()).toContain(`${new URL(ui).pathname}/${scope}/webhooks`);
    }

    const list = await request(`${ui}/${scope}/webhooks`, { headers });
    expect(list.status, `GET ${ui}/${scope}/webhooks`).toBe(200);
    expect(list.headers.get('content-type')).toMatch(/^text\/html/);
    expect(list.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(list.headers.get('x-frame-options')).toBe('DENY');
    expect(list.headers.get('set-cookie')).toMatch(/^hookline_csrf=[^;]+;.*HttpOnly/);
    const page = await list.text();
    expect(page).toContain('<tr data-webhook-id="1">');
    expect(page).toMatch(/<svg class="chart[^"]*"[^>]* role="img"/);
    const stylesheet = /<link rel="stylesheet" href="([^"]+)"/.exec(page)?.[1];
    expect(stylesheet).toBeDefined();
    const css = await request(new URL(stylesheet ?? '', ui).href, { headers });
    expect(css.status).toBe(200);
    expect(css.headers.get('cache-control')).toContain('immutable');

    expect((await request(`${ui}/${hidden}/webhooks`, { headers })).status, `${ui}/${hidden}`).toBe(404);
  }
}
