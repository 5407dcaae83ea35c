/**
 * deliveryLogUi(): every third-party value reaches the pages escaped (response bodies and
 * headers, errors, comments, event types and names, notification ids, scopes, query values),
 * and no secret reaches them at all (URL credentials and query values, signing secrets,
 * credential headers of templates and responses).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MASK } from '../../src/ui/pages/redact.js';
import { BASE, Browser, rowIds, type Setup, setup, tags } from './handler-helpers.js';

let current: Setup | null = null;
afterEach(async () => {
  await current?.worker.stop();
  current = null;
});

const SCRIPT = '<script>alert(1)</script>';
const BREAKOUT = '"><img src=x onerror=alert(2)>';
const QUOTE = "it's";
const HOSTILE = `${SCRIPT}${BREAKOUT}${QUOTE}`;
const HOSTILE_ESCAPED =
  '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;it&#39;s';
/** Event types may not hold spaces. */
const HOSTILE_TYPE = `order.<script>"><img/src/onerror=alert(3)>'`;
const HOSTILE_TYPE_ESCAPED = 'order.&lt;script&gt;&quot;&gt;&lt;img/src/onerror=alert(3)&gt;&#39;';
const HOSTILE_SCOPE = `e"vil<b>'scope`;
const SIGNING_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Strings that must never be on any page. */
const SECRETS = [
  'urluser',
  'URLPASSWORD',
  'QUERYSECRET',
  'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  'HEADERTOKEN',
  'APIKEYVALUE',
  'RESPONSECOOKIE',
  'RESPONSETOKEN',
];

async function hostileWorld() {
  const s = setup({
    registry: { allowUrlCredentials: true, retryPolicy: { name: 'none', delaysMs: [] } },
    ui: { authorize: () => true, scopes: () => ['acme', HOSTILE_SCOPE] },
  });
  current = s;
  const hook = await s.registry.create('acme', {
    key: `k"><b>'`,
    url: 'https://urluser:URLPASSWORD@down.example/hook?token=QUERYSECRET&plain=1',
    eventTypes: ['**'],
    comment: HOSTILE,
    secrets: [SIGNING_SECRET],
    headerTemplate: `Authorization: Bearer HEADERTOKEN\nX-Api-Key: APIKEYVALUE\nX-Note: ${HOSTILE}`,
  });
  const erroring = await s.registry.create('acme', {
    url: 'https://error.example/hook',
    eventTypes: ['**'],
    comment: QUOTE,
  });
  const evil = await s.registry.create(HOSTILE_SCOPE, { url: 'https://evil.example/', eventTypes: ['x'] });
  return { s, hook, erroring, evil };
}

/** Emits the hostile notification; the receivers answer with hostile bodies, headers and errors. */
async function deliverHostile(w: Awaited<ReturnType<typeof hostileWorld>>) {
  const emitted = await w.s.registry.emit({
    id: `ntf${HOSTILE}`,
    scope: 'acme',
    type: HOSTILE_TYPE,
    event: HOSTILE,
    data: { html: HOSTILE, nested: { quote: QUOTE } },
  });
  const evil = await w.s.registry.emit({ scope: HOSTILE_SCOPE, type: 'x', data: { html: HOSTILE } });
  return { ids: emitted.deliveryIds, evilIds: evil.deliveryIds, notificationId: emitted.notificationId };
}

/** Checks one page: well-formed tags, no hostile markup, no secret. */
function expectSafe(page: string, where: string): void {
  const found = tags(page); // throws on a "<" that opens no tag
  for (const tag of found) {
    expect(['img', 'iframe', 'object', 'embed'], `${where} <${tag.name}>`).not.toContain(tag.name);
    if (tag.name === 'script') expect(tag.attributes.get('src'), where).toMatch(/^\/ui\/assets\//);
    for (const name of tag.attributes.keys()) expect(name.startsWith('on'), `${where} ${name}`).toBe(false);
  }
  for (const raw of [SCRIPT, BREAKOUT, QUOTE, "'scope", '<img', 'vil<b>', `"><b>'`]) {
    expect(page.includes(raw), `${where} holds ${raw} unescaped`).toBe(false);
  }
  for (const secret of SECRETS) expect(page.includes(secret), `${where} shows ${secret}`).toBe(false);
}

describe('escaping', () => {
  it('third-party values appear only escaped, on every page', async () => {
    const w = await hostileWorld();
    const sent: string[] = [];
    // The receivers: down.example answers 500 with hostile body and headers; error.example throws.
    w.s.transport.clear();
    const { ids, evilIds, notificationId } = await deliverHostile(w);
    expect(ids).toHaveLength(2);
    const original = w.s.transport.send.bind(w.s.transport);
    w.s.transport.send = async (request) => {
      sent.push(request.url);
      if (request.url.startsWith('https://error.example')) {
        return {
          status: 0,
          headers: {},
          body: '',
          bodyTruncated: false,
          error: { code: 'network', message: `connect failed: ${HOSTILE}` },
        };
      }
      await original(request);
      return {
        status: 500,
        headers: {
          'x-echo': BREAKOUT,
          'set-cookie': 'session=RESPONSECOOKIE',
          'x-auth-token': 'RESPONSETOKEN',
          'content-type': 'text/html',
        },
        body: HOSTILE,
        bodyTruncated: false,
      };
    };
    await w.s.worker.drain();
    expect(sent).toHaveLength(3);
    const [down, errored] = ids as [string, string];
    expect((await w.s.registry.getDelivery('acme', errored)).lastError).toContain(HOSTILE);

    const browser = new Browser(w.s.ui);
    const evilBase = `${BASE}/${encodeURIComponent(HOSTILE_SCOPE)}`;
    const q = encodeURIComponent;
    const pages: Record<string, string> = {
      index: `${BASE}/`,
      webhooks: `${BASE}/acme/webhooks`,
      webhook: `${BASE}/acme/webhooks/${w.hook.id}`,
      erroring: `${BASE}/acme/webhooks/${w.erroring.id}`,
      deliveries: `${BASE}/acme/deliveries`,
      filtered: `${BASE}/acme/deliveries?type=${q(HOSTILE_TYPE)}&q=${q(notificationId)}`,
      echo: `${BASE}/acme/deliveries?type=${q(HOSTILE)}&q=${q(HOSTILE)}&since=&until=`,
      down: `${BASE}/acme/deliveries/${down}`,
      errored: `${BASE}/acme/deliveries/${errored}`,
      badFilter: `${BASE}/acme/deliveries?state=${q(HOSTILE)}&since=${q(HOSTILE)}`,
      badCursor: `${BASE}/acme/deliveries?cursor=${q(HOSTILE)}`,
      notFound: `${BASE}/acme/deliveries/${q(HOSTILE.replace(/\//g, ''))}`,
      evilScope: `${evilBase}/webhooks`,
      evilWebhook: `${evilBase}/webhooks/${w.evil.id}`,
      evilDeliveries: `${evilBase}/deliveries`,
      evilDelivery: `${evilBase}/deliveries/${evilIds[0]}`,
    };
    const seen: Record<string, string> = {};
    for (const [name, path] of Object.entries(pages)) {
      const page = await browser.get(path);
      expect([200, 400, 404], `${name} ${page.status}`).toContain(page.status);
      expectSafe(page.text, name);
      seen[name] = page.text;
    }
    // The values are there, escaped (so the checks above looked at them).
    expect(seen.webhooks).toContain(HOSTILE_ESCAPED); // comment
    expect(seen.webhook).toContain(HOSTILE_ESCAPED);
    expect(seen.webhook).toContain('k&quot;&gt;&lt;b&gt;&#39;'); // key
    expect(seen.erroring).toContain('it&#39;s');
    expect(rowIds(seen.filtered ?? '', 'data-delivery-id').sort()).toEqual([...ids].sort());
    expect(seen.deliveries).toContain(HOSTILE_TYPE_ESCAPED);
    expect(seen.deliveries).toContain(`connect failed: ${HOSTILE_ESCAPED}`); // last error
    expect(seen.echo).toContain(`value="${HOSTILE_ESCAPED}"`); // the filter inputs
    expect(seen.down).toContain(`<pre class="body">${HOSTILE_ESCAPED}</pre>`); // response body
    expect(seen.down).toContain(
      `&quot;html&quot;: &quot;${HOSTILE_ESCAPED.replace(/&quot;/g, '\\&quot;')}&quot;`,
    );
    expect(seen.down).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;'); // x-echo header
    expect(seen.down).toContain(HOSTILE_ESCAPED); // event
    expect(seen.down).toContain(`ntf${HOSTILE_ESCAPED}`); // notification id
    expect(seen.errored).toContain(`connect failed: ${HOSTILE_ESCAPED}`); // attempt error
    expect(seen.index).toContain('e&quot;vil&lt;b&gt;&#39;scope');
    expect(seen.evilScope).toContain('scope <b>e&quot;vil&lt;b&gt;&#39;scope</b>');
    expect(seen.evilScope).toContain(`href="${BASE}/e%22vil%3Cb%3E&#39;scope/deliveries"`);
    expect(seen.badFilter).toContain('state must be one of');
  });

  it('secrets never appear: URL credentials and query values, signing secrets, credential headers', async () => {
    const w = await hostileWorld();
    w.s.transport.send = async () => ({
      status: 200,
      headers: { 'set-cookie': 'session=RESPONSECOOKIE', authorization: 'Bearer RESPONSETOKEN' },
      body: 'ok',
      bodyTruncated: false,
    });
    const { ids } = await deliverHostile(w);
    const ping = await w.s.registry.ping('acme', w.hook.id);
    await w.s.worker.drain();
    const browser = new Browser(w.s.ui);
    const down = `${BASE}/acme/deliveries/${ids[0]}`;
    const pages = [
      `${BASE}/acme/webhooks`,
      `${BASE}/acme/webhooks/${w.hook.id}`,
      `${BASE}/acme/deliveries`,
      `${BASE}/acme/deliveries?webhook=${w.hook.id}`,
      down,
      `${BASE}/acme/deliveries/${ping.id}`,
    ];
    for (const path of pages) {
      const page = await browser.get(path);
      expect(page.status, path).toBe(200);
      for (const secret of SECRETS) expect(page.text.includes(secret), `${path} shows ${secret}`).toBe(false);
    }
    // What is shown instead (so the checks above looked at the right places).
    const webhook = (await browser.get(`${BASE}/acme/webhooks/${w.hook.id}`)).text;
    expect(webhook).toContain('https://down.example/hook?token=REDACTED&amp;plain=REDACTED');
    expect(webhook).toContain('<dt>Signing secrets</dt><dd>1 (not shown)</dd>');
    const delivery = (await browser.get(down)).text;
    for (const name of ['Authorization', 'X-Api-Key', 'set-cookie', 'authorization']) {
      expect(delivery).toContain(`<tr><th class="mono">${name}</th><td class="mono url">${MASK}</td></tr>`);
    }
    expect(delivery).toContain(`X-Note</th><td class="mono url">${HOSTILE_ESCAPED}`);
    // The stored request does hold them: the page is what hides them.
    const stored = await w.s.registry.getDelivery('acme', ids[0] as string);
    expect(stored.request.headers.Authorization).toBe('Bearer HEADERTOKEN');
    expect(stored.request.url).toContain('QUERYSECRET');
  });
});
