/**
 * deliveryLogUi() and ordered delivery: the webhook page shows the ordering and changes it
 * (CSRF-protected, writers only); the log shows a delivery waiting behind its line as "waiting
 * in line" and a failed one that pauses its line with a badge; a delivery's page says what it
 * waits behind (through `registry.deliveryLine`) and shows its ordering key, escaped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/index.js';
import type { Store } from '../../src/stores/types.js';
import {
  BASE,
  Browser,
  findForm,
  location,
  noticeText,
  type Setup,
  setup,
  tags,
  unescapeHtml,
} from './handler-helpers.js';

let current: Setup | null = null;
afterEach(async () => {
  await current?.worker.stop();
  current = null;
});

/** Receivers at `down*.example` answer 500 while `down` is true, others 200; no retries. */
function fixture(options: { store?: Store } = {}) {
  const state = { down: true };
  const s = setup({
    respond: (url) => (state.down && new URL(url).hostname.startsWith('down') ? 500 : 200),
    registry: {
      retryPolicy: { name: 'none', delaysMs: [] },
      ...(options.store ? { store: options.store } : {}),
    },
  });
  current = s;
  return { ...s, state };
}

/** The text of the `<dd>` after the `<dt>` named `term` in the page's summary, tags removed. */
function summaryValue(page: string, term: string): string | null {
  const match = new RegExp(`<dt>${term}</dt><dd[^>]*>([\\s\\S]*?)</dd>`).exec(page);
  return match ? unescapeHtml((match[1] as string).replace(/<[^>]+>/g, '')).trim() : null;
}

/** The cells of the log row of delivery `id`, tags removed. */
function rowCells(page: string, id: string): string[] {
  const start = page.indexOf(`<tr data-delivery-id="${id}">`);
  expect(start, `row of ${id}`).toBeGreaterThanOrEqual(0);
  const row = page.slice(start, page.indexOf('</tr>', start));
  return [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) =>
    unescapeHtml((m[1] as string).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')).trim(),
  );
}

const NEXT_ATTEMPT = 7;
const STATE = 4;

describe('the webhook page', () => {
  it('shows the ordering in the configuration', async () => {
    const s = fixture();
    const plain = await s.registry.create('acme', { url: 'https://up.example/a', eventTypes: ['order.*'] });
    const fifo = await s.registry.create('acme', {
      url: 'https://up.example/b',
      eventTypes: ['order.*'],
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    const browser = new Browser(s.ui);
    expect(summaryValue((await browser.get(`${BASE}/acme/webhooks/${plain.id}`)).text, 'Ordering')).toBe(
      'none (deliveries are sent in parallel, in any order)',
    );
    expect(summaryValue((await browser.get(`${BASE}/acme/webhooks/${fifo.id}`)).text, 'Ordering')).toBe(
      'FIFO (per key) · on failure: pause',
    );
    await s.registry.update('acme', fifo.id, { orderingOnFailure: 'continue' });
    expect(summaryValue((await browser.get(`${BASE}/acme/webhooks/${fifo.id}`)).text, 'Ordering')).toBe(
      'FIFO (per key) · on failure: continue',
    );
  });

  it('changes the ordering with its form, then redirects with a notice', async () => {
    const s = fixture();
    const hook = await s.registry.create('acme', { url: 'https://up.example/a', eventTypes: ['order.*'] });
    const browser = new Browser(s.ui);
    const page = `${BASE}/acme/webhooks/${hook.id}`;
    const form = findForm((await browser.get(page)).text, `${page}/ordering`);
    expect(form).not.toBeNull();
    // The current values are preselected.
    expect(form?.markup).toContain('<option value="none" selected>');
    expect(form?.markup).toContain('<option value="continue" selected>');

    const result = await browser.submit(page, `${page}/ordering`, { ordering: 'fifo', on_failure: 'pause' });
    expect(location(result)).toBe(`${page}?notice=ordering`);
    expect(await s.registry.get('acme', hook.id)).toMatchObject({
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    const after = await browser.get(location(result));
    expect(noticeText(after.text)).toBe(
      'Ordering changed: deliveries emitted from now on follow it; those already queued keep their line.',
    );
    expect(summaryValue(after.text, 'Ordering')).toBe('FIFO (per key) · on failure: pause');
    const again = findForm(after.text, `${page}/ordering`);
    expect(again?.markup).toContain('<option value="fifo" selected>');
    expect(again?.markup).toContain('<option value="pause" selected>');

    // on_failure omitted: unchanged.
    await browser.submit(page, `${page}/ordering`, { ordering: 'none' });
    expect(await s.registry.get('acme', hook.id)).toMatchObject({
      ordering: 'none',
      orderingOnFailure: 'pause',
    });
  });

  it('refuses bad values (400), forms without their token (403) and readers (no form, 403)', async () => {
    const s = fixture();
    const hook = await s.registry.create('acme', { url: 'https://up.example/a', eventTypes: ['order.*'] });
    const page = `${BASE}/acme/webhooks/${hook.id}`;
    const action = `${page}/ordering`;
    const browser = new Browser(s.ui);
    const token = findForm((await browser.get(page)).text, action)?.hidden._csrf as string;
    for (const fields of [
      { ordering: 'lifo' },
      {},
      { ordering: 'fifo', on_failure: 'stop' },
      { ordering: '<script>' },
    ]) {
      const bad = await browser.post(action, { _csrf: token, ...fields });
      expect(bad.status, JSON.stringify(fields)).toBe(400);
      expect(bad.text).not.toContain('<script>');
      tags(bad.text);
    }
    expect((await browser.post(action, { ordering: 'fifo' })).status).toBe(403);
    expect((await browser.post(action, { _csrf: 'forged', ordering: 'fifo' })).status).toBe(403);
    // GET of the action's address: it answers POST only.
    expect((await browser.get(action)).status).toBe(405);

    const reader = new Browser(s.ui, 'reader');
    const seen = await reader.get(page);
    expect(seen.status).toBe(200);
    expect(findForm(seen.text, action)).toBeNull();
    expect(summaryValue(seen.text, 'Ordering')).toContain('none');
    const readerToken = /name="_csrf" value="([^"]+)"/.exec(seen.text)?.[1] ?? token;
    expect((await reader.post(action, { _csrf: readerToken, ordering: 'fifo' })).status).toBe(403);
    expect(await s.registry.get('acme', hook.id)).toMatchObject({
      ordering: 'none',
      orderingOnFailure: 'continue',
    });
  });
});

describe('the delivery log and a delivery’s page', () => {
  const KEY = `order<script>alert(1)</script>"'&`;
  const KEY_ESCAPED = 'order&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;';

  it('a delivery waiting behind its line: "waiting in line", what it waits behind, its key escaped', async () => {
    const s = fixture();
    const hook = await s.registry.create('acme', {
      url: 'https://up.example/a',
      eventTypes: ['order.*'],
      ordering: 'fifo',
    });
    const [head] = (await s.registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: KEY, data: {} }))
      .deliveryIds as [string];
    const [second] = (
      await s.registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: KEY, data: {} })
    ).deliveryIds as [string];
    const [third] = (await s.registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: KEY, data: {} }))
      .deliveryIds as [string];
    expect(await s.registry.getDelivery('acme', second)).toMatchObject({
      ordered: true,
      nextAttemptAt: null,
    });
    const browser = new Browser(s.ui);

    const log = await browser.get(`${BASE}/acme/deliveries`);
    tags(log.text);
    expect(rowCells(log.text, head)[NEXT_ATTEMPT]).toBe('2026-03-10 12:00:00');
    expect(rowCells(log.text, second)[NEXT_ATTEMPT]).toBe('waiting in line');
    expect(rowCells(log.text, third)[NEXT_ATTEMPT]).toBe('waiting in line');

    const headPage = await browser.get(`${BASE}/acme/deliveries/${head}`);
    expect(summaryValue(headPage.text, 'Line')).toBe('First in its line');
    expect(summaryValue(headPage.text, 'Next attempt')).toBe('2026-03-10 12:00:00');

    const thirdPage = await browser.get(`${BASE}/acme/deliveries/${third}`);
    tags(thirdPage.text);
    expect(summaryValue(thirdPage.text, 'Next attempt')).toBe('waiting in line');
    expect(summaryValue(thirdPage.text, 'Line')).toBe(`Waiting behind ${head} (2 ahead in its line)`);
    const link = tags(thirdPage.text).find(
      (t) => t.name === 'a' && t.attributes.get('href') === `${BASE}/acme/deliveries/${head}`,
    );
    expect(link, 'a link to the blocking delivery').toBeDefined();
    // The key is shown, escaped.
    expect(thirdPage.text).toContain(KEY_ESCAPED);
    expect(thirdPage.text).not.toContain('<script>alert(1)');
    expect(summaryValue(thirdPage.text, 'Ordering key')).toBe(KEY);
    // Canceling it is possible (it leaves its line).
    expect(findForm(thirdPage.text, `${BASE}/acme/deliveries/${third}/cancel`)).not.toBeNull();

    // The worker sends them one after the other; then nobody waits.
    await s.worker.drain();
    expect(s.transport.requests.map((r) => r.headers['webhook-id'])).toEqual([head, second, third]);
    const done = await browser.get(`${BASE}/acme/deliveries/${third}`);
    expect(summaryValue(done.text, 'Line')).toBeNull();
    expect(summaryValue(done.text, 'Ordering key')).toBe(KEY);
    expect(hook.ordering).toBe('fifo');
  });

  it('an ordered delivery without a key shows the webhook’s one line; unordered ones show no ordering', async () => {
    const s = fixture();
    await s.registry.create('acme', {
      url: 'https://up.example/a',
      eventTypes: ['order.*'],
      ordering: 'fifo',
    });
    await s.registry.create('acme', { url: 'https://up.example/b', eventTypes: ['order.*'] });
    const [ordered, free] = (await s.registry.emit({ scope: 'acme', type: 'order.paid', data: {} }))
      .deliveryIds as [string, string];
    const browser = new Browser(s.ui);
    const orderedPage = await browser.get(`${BASE}/acme/deliveries/${ordered}`);
    expect(summaryValue(orderedPage.text, 'Ordering key')).toBe("none: the webhook's one line");
    const freePage = await browser.get(`${BASE}/acme/deliveries/${free}`);
    expect(summaryValue(freePage.text, 'Ordering key')).toBeNull();
    expect(summaryValue(freePage.text, 'Line')).toBeNull();
  });

  it('a failed delivery pausing its line: a badge in the log, and "paused until redelivered" by Redeliver', async () => {
    const s = fixture();
    await s.registry.create('acme', {
      url: 'https://down.example/a',
      eventTypes: ['order.*'],
      ordering: 'fifo',
      orderingOnFailure: 'pause',
    });
    const [first] = (await s.registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: 'k', data: {} }))
      .deliveryIds as [string];
    const [second] = (
      await s.registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: 'k', data: {} })
    ).deliveryIds as [string];
    await s.worker.drain();
    expect(await s.registry.getDelivery('acme', first)).toMatchObject({ state: 'failed', pausesLine: true });
    expect(await s.registry.getDelivery('acme', second)).toMatchObject({
      state: 'pending',
      nextAttemptAt: null,
    });
    const browser = new Browser(s.ui);

    const log = await browser.get(`${BASE}/acme/deliveries`);
    expect(rowCells(log.text, first)[STATE]).toBe('failed pauses its line');
    expect(rowCells(log.text, second)[STATE]).toBe('pending');
    expect(rowCells(log.text, second)[NEXT_ATTEMPT]).toBe('waiting in line');

    const page = `${BASE}/acme/deliveries/${first}`;
    const failed = await browser.get(page);
    expect(summaryValue(failed.text, 'State')).toBe('failed pauses its line');
    const actions = failed.text.slice(failed.text.indexOf('<div class="actions">'));
    expect(actions.slice(0, actions.indexOf('</div>'))).toContain(
      'Its line is paused until it is redelivered.',
    );
    expect(findForm(failed.text, `${page}/redeliver`)).not.toBeNull();

    const waiting = await browser.get(`${BASE}/acme/deliveries/${second}`);
    expect(summaryValue(waiting.text, 'Line')).toBe(
      `Waiting behind ${first} (1 ahead in its line); the line is paused until it is redelivered`,
    );

    // Redeliver the paused one: it keeps its place at the head, the line goes on.
    s.state.down = false;
    const result = await browser.submit(page, `${page}/redeliver`);
    expect(location(result)).toBe(`${page}?notice=redelivered`);
    const again = await browser.get(page);
    expect(again.text).not.toContain('pauses its line');
    expect(summaryValue(again.text, 'Line')).toBe('First in its line');
    await s.worker.drain();
    expect(await s.registry.getDelivery('acme', first)).toMatchObject({
      state: 'succeeded',
      pausesLine: false,
    });
    expect(await s.registry.getDelivery('acme', second)).toMatchObject({ state: 'succeeded' });
  });

  it('a store without deliveryLine: the page shows the delivery without its line', async () => {
    const { deliveryLine: _left, ...bare } = memoryStore();
    const s = fixture({ store: bare as Store });
    await s.registry.create('acme', {
      url: 'https://up.example/a',
      eventTypes: ['order.*'],
      ordering: 'fifo',
    });
    await s.registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: 'k', data: {} });
    const [second] = (
      await s.registry.emit({ scope: 'acme', type: 'order.paid', orderingKey: 'k', data: {} })
    ).deliveryIds as [string];
    const page = await new Browser(s.ui).get(`${BASE}/acme/deliveries/${second}`);
    expect(page.status).toBe(200);
    expect(summaryValue(page.text, 'Next attempt')).toBe('waiting in line');
    expect(summaryValue(page.text, 'Ordering key')).toBe('k');
    expect(summaryValue(page.text, 'Line')).toBeNull();
    expect(s.errors).toEqual([]);
  });
});
