/**
 * deliveryLogUi(): the delivery log's filters, search and pages, and the webhooks' health
 * (success rate, last status, charts) as recorded attempts make it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BASE,
  Browser,
  forms,
  HOUR,
  linkWithRel,
  rowIds,
  type Setup,
  setup,
  T0,
  tags,
  unescapeHtml,
} from './handler-helpers.js';

let current: Setup | null = null;
afterEach(async () => {
  await current?.worker.stop();
  current = null;
});

const MINUTE = 60_000;

/**
 * Webhooks a (up, `order.*`) and b (down, `order.paid` and `refund.*`), deliveries over a day
 * and a half, every state: the ids by name, in creation order.
 */
async function log() {
  const s = setup({
    respond: (url) => (url.includes('down') ? 500 : 200),
    registry: { retryPolicy: { name: 'none', delaysMs: [] } },
  });
  current = s;
  const a = await s.registry.create('acme', { url: 'https://up.example/a', eventTypes: ['order.*'] });
  const b = await s.registry.create('acme', {
    url: 'https://down.example/b',
    eventTypes: ['order.paid', 'refund.*'],
  });
  const emit = async (type: string, id?: string) =>
    (await s.registry.emit({ scope: 'acme', type, data: {}, ...(id ? { id } : {}) })).deliveryIds;
  const [d1a, d1b] = (await emit('order.paid', 'ntf-paid-1')) as [string, string]; // T0
  s.clock.advance(30 * MINUTE);
  const [d2a] = (await emit('order.refunded', 'ntf-refund-1')) as [string]; // T0 + 30 min
  s.clock.advance(2 * HOUR);
  const [d3b] = (await emit('refund.created')) as [string]; // T0 + 2 h 30 min
  s.clock.advance(25 * HOUR);
  const [d4a, d4b] = (await emit('order.paid')) as [string, string]; // T0 + 27 h 30 min
  await s.registry.cancel('acme', d4a);
  await s.worker.drain();
  s.clock.advance(MINUTE);
  const [d5a, d5b] = (await emit('order.paid')) as [string, string]; // T0 + 27 h 31 min, pending
  s.clock.advance(MINUTE); // now: T0 + 27 h 32 min
  const ids = { d1a, d1b, d2a, d3b, d4a, d4b, d5a, d5b };
  const states = Object.fromEntries(
    await Promise.all(
      Object.entries(ids).map(async ([name, id]) => [name, (await s.registry.getDelivery('acme', id)).state]),
    ),
  );
  expect(states).toEqual({
    d1a: 'succeeded',
    d1b: 'failed',
    d2a: 'succeeded',
    d3b: 'failed',
    d4a: 'canceled',
    d4b: 'failed',
    d5a: 'pending',
    d5b: 'pending',
  });
  return { s, a, b, ids, browser: new Browser(s.ui) };
}

type Log = Awaited<ReturnType<typeof log>>;
type Name = keyof Log['ids'];

/** The rows of the log for `query`, as names of the fixture's deliveries. */
async function rows(f: Log, query: string): Promise<Name[]> {
  const page = await f.browser.get(`${BASE}/acme/deliveries${query === '' ? '' : `?${query}`}`);
  expect(page.status, `${query}: ${page.text.slice(0, 300)}`).toBe(200);
  const byId = new Map(Object.entries(f.ids).map(([name, id]) => [id, name as Name]));
  return rowIds(page.text, 'data-delivery-id').map((id) => byId.get(id) ?? (id as Name));
}

describe('the delivery log', () => {
  it('lists the deliveries newest first, each with its columns', async () => {
    const f = await log();
    expect(await rows(f, '')).toEqual(['d5b', 'd5a', 'd4b', 'd4a', 'd3b', 'd2a', 'd1b', 'd1a']);
    const page = (await f.browser.get(`${BASE}/acme/deliveries`)).text;
    const row = (id: string) => {
      const start = page.indexOf(`<tr data-delivery-id="${id}">`);
      return page.slice(start, page.indexOf('</tr>', start));
    };
    const failed = row(f.ids.d1b);
    expect(failed).toContain('<time datetime="2026-03-10T12:00:00.000Z">2026-03-10 12:00:00</time>');
    expect(failed).toContain(`<a href="${BASE}/acme/deliveries/${f.ids.d1b}">${f.ids.d1b}</a>`);
    expect(failed).toContain(`<a href="${BASE}/acme/webhooks/${f.b.id}">${f.b.id}</a>`);
    expect(failed).toContain('order.paid');
    expect(failed).toContain('<span class="badge failed">failed</span>');
    expect(failed).toContain('<td class="num">1</td>'); // attempts
    expect(failed).toContain('<td class="num">500</td>'); // last status
    expect(failed).toContain('HTTP 500'); // last error
    const pending = row(f.ids.d5a);
    expect(pending).toContain('<span class="badge pending">pending</span>');
    expect(pending).toContain('<td class="num">0</td>');
    expect(pending).toContain('<time datetime="2026-03-11T15:31:00.000Z">'); // next attempt
    expect(row(f.ids.d4a)).toContain('<span class="badge canceled">canceled</span>');
    expect(row(f.ids.d1a)).toContain('<span class="badge succeeded">succeeded</span>');
    // The filter form: a GET form with the documented fields.
    const [filters] = forms(page).filter((form) => form.className.split(' ').includes('filters'));
    expect(filters?.method).toBe('get');
    expect(filters?.action).toBe(`${BASE}/acme/deliveries`);
    const fields = tags(filters?.markup ?? '')
      .filter((t) => t.name === 'input' || t.name === 'select')
      .map((t) => `${t.name}:${t.attributes.get('name')}`);
    expect(fields).toEqual([
      'select:state',
      'select:webhook',
      'input:type',
      'input:since',
      'input:until',
      'input:q',
    ]);
    const webhookOptions = tags(filters?.markup ?? '')
      .filter((t) => t.name === 'option')
      .map((t) => t.attributes.get('value'));
    expect(webhookOptions).toEqual([
      '',
      'pending',
      'succeeded',
      'failed',
      'canceled',
      '',
      String(f.a.id),
      String(f.b.id),
    ]);
  });

  it('filters by state, type and webhook, and shows the filters chosen', async () => {
    const f = await log();
    expect(await rows(f, 'state=failed')).toEqual(['d4b', 'd3b', 'd1b']);
    expect(await rows(f, 'state=pending')).toEqual(['d5b', 'd5a']);
    expect(await rows(f, 'state=canceled')).toEqual(['d4a']);
    expect(await rows(f, 'state=succeeded')).toEqual(['d2a', 'd1a']);
    expect(await rows(f, 'type=order.paid')).toEqual(['d5b', 'd5a', 'd4b', 'd4a', 'd1b', 'd1a']);
    expect(await rows(f, 'type=refund.created')).toEqual(['d3b']);
    // Exact names, not patterns.
    const pattern = await f.browser.get(`${BASE}/acme/deliveries?type=order.*`);
    expect(pattern.status).toBe(400);
    expect(pattern.text).toContain('types');
    expect(await rows(f, `webhook=${f.a.id}`)).toEqual(['d5a', 'd4a', 'd2a', 'd1a']);
    expect(await rows(f, `webhook=${f.b.id}&state=failed&type=order.paid`)).toEqual(['d4b', 'd1b']);
    expect(await rows(f, `webhook=${f.b.id + 100}`)).toEqual([]);
    // Empty values are no filter.
    expect(await rows(f, 'state=&type=&webhook=&since=&until=&q=')).toHaveLength(8);

    const page = (
      await f.browser.get(`${BASE}/acme/deliveries?state=failed&webhook=${f.b.id}&type=order.paid`)
    ).text;
    const selected = tags(page)
      .filter((t) => t.name === 'option' && t.attributes.has('selected'))
      .map((t) => t.attributes.get('value'));
    expect(selected).toEqual(['failed', String(f.b.id)]);
    expect(page).toContain('<input name="type" value="order.paid"');
    const none = (await f.browser.get(`${BASE}/acme/deliveries?state=canceled&webhook=${f.b.id}`)).text;
    expect(none).toContain('No deliveries match these filters.');
  });

  it('filters by creation time: ages, ISO 8601 with Z, and datetime-local values read as UTC', async () => {
    const f = await log();
    // now is T0 + 27 h 32 min: 24h back is T0 + 3 h 32 min.
    expect(await rows(f, 'since=24h')).toEqual(['d5b', 'd5a', 'd4b', 'd4a']);
    expect(await rows(f, 'since=2m')).toEqual(['d5b', 'd5a', 'd4b', 'd4a']); // inclusive
    expect(await rows(f, 'since=1m')).toEqual(['d5b', 'd5a']);
    expect(await rows(f, 'since=30s')).toEqual([]);
    expect(await rows(f, 'since=7d')).toHaveLength(8);
    expect(await rows(f, 'since=2026-03-10T12:15Z')).toEqual(['d5b', 'd5a', 'd4b', 'd4a', 'd3b', 'd2a']);
    expect(await rows(f, 'until=2026-03-10T14:00Z')).toEqual(['d2a', 'd1b', 'd1a']);
    expect(await rows(f, 'since=2026-03-10T12:15Z&until=2026-03-10T14:00Z')).toEqual(['d2a']);
    // since is inclusive, until exclusive: d2a was created at 12:30:00 exactly.
    expect(await rows(f, 'since=2026-03-10T12:30:00Z&until=2026-03-10T12:31Z')).toEqual(['d2a']);
    expect(await rows(f, 'until=2026-03-10T12:30Z')).toEqual(['d1b', 'd1a']);
    // A datetime-local value has no zone: it is UTC, whatever the server's time zone.
    expect(await rows(f, 'since=2026-03-10T12:15&until=2026-03-10T14:00')).toEqual(['d2a']);
    expect(await rows(f, 'since=2026-03-10T12:30')).toEqual(['d5b', 'd5a', 'd4b', 'd4a', 'd3b', 'd2a']);
    // Other zones are honoured.
    expect(await rows(f, 'since=2026-03-10T13:15%2B01:00&until=2026-03-10T14:00Z')).toEqual(['d2a']);
    expect(await rows(f, 'until=2026-03-10')).toEqual([]);
    expect(await rows(f, 'since=2026-03-11')).toEqual(['d5b', 'd5a', 'd4b', 'd4a']);
    expect(new Date(T0).toISOString()).toBe('2026-03-10T12:00:00.000Z');
  });

  it('finds a delivery by its id and the deliveries of a notification by its id', async () => {
    const f = await log();
    expect(await rows(f, `q=${f.ids.d3b}`)).toEqual(['d3b']);
    expect(await rows(f, `q=%20${f.ids.d3b}%20`)).toEqual(['d3b']); // pasted with spaces
    expect(await rows(f, 'q=ntf-refund-1')).toEqual(['d2a']);
    expect(await rows(f, 'q=ntf-paid-1')).toEqual(['d1b', 'd1a']);
    expect(await rows(f, 'q=ntf-paid-1&state=failed')).toEqual(['d1b']);
    expect(await rows(f, 'q=msg_nothing')).toEqual([]);
    // The delivery page links to its notification's deliveries.
    const page = (await f.browser.get(`${BASE}/acme/deliveries/${f.ids.d1a}`)).text;
    const link = tags(page).find((t) => t.name === 'a' && t.attributes.get('href')?.includes('q='));
    const href = unescapeHtml(link?.attributes.get('href') ?? '');
    expect(href).toBe(`${BASE}/acme/deliveries?q=ntf-paid-1`);
    expect(await rows(f, href.split('?')[1] as string)).toEqual(['d1b', 'd1a']);
  });

  it('answers a bad filter with a 400 page naming the problem', async () => {
    const f = await log();
    const cases: [string, string][] = [
      ['state=nope', 'state: state must be one of pending, succeeded, failed, canceled.'],
      ['webhook=abc', 'webhook: webhook must be a webhook id (a positive integer).'],
      ['webhook=0', 'webhook must be a webhook id'],
      ['webhook=-4', 'webhook must be a webhook id'],
      ['since=yesterday', 'since: since must be a UTC date and time like 2026-12-04T10:00Z'],
      ['until=2026-13-45T10:00Z', 'until: until must be a UTC date and time'],
      ['since=24x', 'since must be'],
      ['cursor=not-a-cursor', 'cursor'],
    ];
    for (const [query, message] of cases) {
      const page = await f.browser.get(`${BASE}/acme/deliveries?${query}`);
      expect(page.status, query).toBe(400);
      expect(page.text, query).toContain(message);
      expect(page.text).not.toContain('<table class="deliveries"');
    }
    // Every problem at once.
    const all = await f.browser.get(`${BASE}/acme/deliveries?state=nope&webhook=x&since=y`);
    expect(all.status).toBe(400);
    expect(tags(all.text).filter((t) => t.name === 'li')).toHaveLength(3);
  });
});

describe('paging', () => {
  async function many(count: number) {
    const s = setup();
    current = s;
    const hook = await s.registry.create('acme', { url: 'https://up.example/hook', eventTypes: ['**'] });
    const created: string[] = [];
    for (let i = 0; i < count; i++) {
      if (i % 7 === 0) s.clock.advance(1000); // some share their creation time
      const type = i % 2 === 0 ? 'even.created' : 'odd.created';
      created.push(...(await s.registry.emit({ scope: 'acme', type, data: { i } })).deliveryIds);
    }
    return { s, hook, created, browser: new Browser(s.ui) };
  }

  /** Follows the `rel="next"` links from `start`; the rows of each page. */
  async function walk(browser: Browser, start: string) {
    const pages: string[][] = [];
    let next: string | null = start;
    while (next !== null) {
      const page = await browser.get(next);
      expect(page.status, next).toBe(200);
      pages.push(rowIds(page.text, 'data-delivery-id'));
      const newest = /<a href="[^"]*">Newest<\/a>/.test(page.text);
      expect(newest, `a Newest link on page ${pages.length}`).toBe(pages.length > 1);
      next = linkWithRel(page.text, 'next');
      if (next !== null) expect(next).toContain('cursor=');
      expect(pages.length).toBeLessThan(10);
    }
    return pages;
  }

  it('pages through 120 deliveries 50, 50, 20, newest first, each once', async () => {
    const f = await many(120);
    const pages = await walk(f.browser, `${BASE}/acme/deliveries`);
    expect(pages.map((p) => p.length)).toEqual([50, 50, 20]);
    expect(pages.flat()).toEqual([...f.created].reverse());
    expect(new Set(pages.flat()).size).toBe(120);
  });

  it('keeps the filters on the next pages', async () => {
    const f = await many(120);
    const pages = await walk(f.browser, `${BASE}/acme/deliveries?type=even.created&since=1h`);
    const even = f.created.filter((_, i) => i % 2 === 0).reverse();
    expect(pages.map((p) => p.length)).toEqual([50, 10]);
    expect(pages.flat()).toEqual(even);
    const first = await f.browser.get(`${BASE}/acme/deliveries?type=even.created&since=1h`);
    const next = new URL(linkWithRel(first.text, 'next') ?? '', 'https://x.example');
    expect(next.searchParams.get('type')).toBe('even.created');
    expect(next.searchParams.get('since')).toBe('1h');
    const second = await f.browser.get(`${next.pathname}${next.search}`);
    const newest = tags(second.text).find(
      (t) => t.name === 'a' && second.text.slice(t.index).match(/^<a [^>]*>Newest</) !== null,
    );
    expect(unescapeHtml(newest?.attributes.get('href') ?? '')).toBe(
      `${BASE}/acme/deliveries?type=even.created&since=1h`,
    );
    // A cursor with other filters is refused or ignored, never a page of other deliveries.
    const mixed = await f.browser.get(
      `${BASE}/acme/deliveries?type=odd.created&cursor=${encodeURIComponent(next.searchParams.get('cursor') ?? '')}`,
    );
    if (mixed.status === 200) {
      for (const id of rowIds(mixed.text, 'data-delivery-id')) {
        expect(f.created.indexOf(id) % 2).toBe(1);
      }
    } else expect(mixed.status).toBe(400);
  });

  it('has no next link when everything fits on one page', async () => {
    const f = await many(50);
    const page = await f.browser.get(`${BASE}/acme/deliveries`);
    expect(rowIds(page.text, 'data-delivery-id')).toHaveLength(50);
    expect(linkWithRel(page.text, 'next')).toBeNull();
    expect(page.text).not.toContain('>Newest<');
  });
});

describe('the webhooks page', () => {
  /** Webhooks that answer 200, 500, nothing, a mix (200, 500, 200, 200), and one never sent to. */
  async function health() {
    const mixed = [200, 500, 200, 200];
    const s = setup({
      respond: (url) => {
        if (url.includes('up.')) return 200;
        if (url.includes('down.')) return 500;
        if (url.includes('mixed.')) return mixed.shift() ?? 200;
        throw new Error('connection refused');
      },
      registry: { retryPolicy: { name: 'none', delaysMs: [] } },
    });
    current = s;
    const hook = (name: string, extra: { secrets?: string[] } = {}) =>
      s.registry.create('acme', { url: `https://${name}.example/hook`, eventTypes: [`${name}.*`], ...extra });
    const up = await hook('up', {
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_c2Vjb25kU2VjcmV0VmFsdWVIZXJl'],
    });
    const down = await hook('down');
    const refused = await hook('refused');
    const mix = await hook('mixed');
    const never = await hook('never');
    for (const [name, times] of [
      ['up', 3],
      ['down', 1],
      ['refused', 1],
      ['mixed', 4],
    ] as const) {
      for (let i = 0; i < times; i++) {
        await s.registry.emit({ scope: 'acme', type: `${name}.done`, data: {} });
        await s.worker.drain();
        s.clock.advance(MINUTE);
      }
    }
    s.clock.advance(10 * MINUTE);
    return { s, up, down, refused, mix, never, browser: new Browser(s.ui) };
  }

  function rowOf(page: string, id: number): string {
    const start = page.indexOf(`<tr data-webhook-id="${id}">`);
    expect(start).toBeGreaterThan(0);
    return page.slice(start, page.indexOf('</tr>', start));
  }

  it('one row per webhook with its state, last status, success rate and a chart', async () => {
    const f = await health();
    await f.s.registry.disable('acme', f.never.id);
    const page = (await f.browser.get(`${BASE}/acme/webhooks`)).text;
    expect(
      tags(page)
        .find((t) => t.name === 'table')
        ?.attributes.get('class'),
    ).toBe('webhooks');
    expect(rowIds(page, 'data-webhook-id')).toEqual(
      [f.up, f.down, f.refused, f.mix, f.never].map((w) => String(w.id)),
    );
    const expected: [typeof f.up, string, string, string, string][] = [
      [f.up, 'badge enabled', '<span class="badge ok">200</span>', '100 %', '3 attempts, 0 not successful'],
      [
        f.down,
        'badge enabled',
        '<span class="badge failed">500</span>',
        '0 %',
        '1 attempts, 1 not successful',
      ],
      [
        f.refused,
        'badge enabled',
        '<span class="badge errored">no answer</span>',
        '0 %',
        '1 attempts, 1 not successful',
      ],
      [f.mix, 'badge enabled', '<span class="badge ok">200</span>', '75.0 %', '4 attempts, 1 not successful'],
      [f.never, 'badge disabled', 'never sent', '–', '0 attempts, 0 not successful'],
    ];
    for (const [webhook, state, last, rate, chart] of expected) {
      const row = rowOf(page, webhook.id);
      const where = `webhook ${webhook.id}`;
      expect(row, where).toContain(`<span class="${state}">`);
      expect(row, where).toContain(last);
      expect(row, where).toContain(`<td class="num">${rate}</td>`);
      const svgs = tags(row).filter((t) => t.name === 'svg');
      expect(svgs, where).toHaveLength(1);
      expect(svgs[0]?.attributes.get('class'), where).toBe('chart');
      expect(svgs[0]?.attributes.get('role'), where).toBe('img');
      expect(svgs[0]?.attributes.get('aria-label'), where).toContain(chart);
      expect(row, where).toContain(`https://${new URL(webhook.url).hostname}/hook`);
    }
    // Bars in the charts: one green part per bucket with a success, red for HTTP failures, amber for no answer.
    const mixRow = rowOf(page, f.mix.id);
    expect(
      tags(mixRow).filter((t) => t.name === 'rect' && t.attributes.get('class') === 'ok').length,
    ).toBeGreaterThan(0);
    expect(
      tags(mixRow).filter((t) => t.name === 'rect' && t.attributes.get('class') === 'fail'),
    ).toHaveLength(1);
    expect(
      tags(rowOf(page, f.refused.id)).filter((t) => t.name === 'rect' && t.attributes.get('class') === 'err'),
    ).toHaveLength(1);
    // Failures in a row, and since when, for the failing ones.
    expect(rowOf(page, f.down.id)).toMatch(
      /<td class="num">1 <span class="small muted">failing since <time datetime="2026-03-10T12:0\d:00.000Z">/,
    );
    expect(rowOf(page, f.up.id)).toContain('<td class="num"><span class="muted">0</span></td>');
  });

  it('health counts only the last 24 hours; the last status is the newest attempt ever', async () => {
    const f = await health();
    f.s.clock.advance(25 * HOUR);
    const page = (await f.browser.get(`${BASE}/acme/webhooks`)).text;
    const row = rowOf(page, f.mix.id);
    expect(row).toContain('<td class="num">–</td>');
    expect(row).toContain('<span class="badge ok">200</span>');
    expect(
      tags(row)
        .find((t) => t.name === 'svg')
        ?.attributes.get('aria-label'),
    ).toContain('0 attempts');
  });

  it("a webhook's page shows its health, a larger chart and how many secrets, never the secrets", async () => {
    const f = await health();
    const page = (await f.browser.get(`${BASE}/acme/webhooks/${f.up.id}`)).text;
    expect(page).toContain(`<h1>Webhook ${f.up.id}</h1>`);
    expect(page).toContain('<dt>Signing secrets</dt><dd>2 (not shown)</dd>');
    expect(page).not.toMatch(/whsec_|MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw|c2Vjb25kU2VjcmV0VmFsdWVIZXJl/);
    expect(page).toContain('<span class="badge ok">200</span>');
    expect(page).toContain('<b>100 %</b>');
    expect(page).toContain('<b>3</b>'); // attempts in 24 h
    const chart = tags(page).find((t) => t.name === 'svg');
    expect(chart?.attributes.get('role')).toBe('img');
    expect(Number(chart?.attributes.get('width'))).toBeGreaterThan(192);
    expect(chart?.attributes.get('aria-label')).toContain('3 attempts, 0 not successful');
    const unsigned = (await f.browser.get(`${BASE}/acme/webhooks/${f.down.id}`)).text;
    expect(unsigned).toContain('<dt>Signing secrets</dt><dd>none (unsigned)</dd>');
    expect(unsigned).toContain('<b>0 %</b>');
    const deliveriesLink = tags(unsigned).find(
      (t) => t.name === 'a' && t.attributes.get('href') === `${BASE}/acme/deliveries?webhook=${f.down.id}`,
    );
    expect(deliveriesLink).toBeDefined();
  });
});
