/**
 * The delivery-log UI in a real browser: Debian's Chromium driven by playwright-core against
 * the node-http example on 127.0.0.1, its workers delivering to a receiver on 127.0.0.1
 * (`scenario.ts`). A person's path through it: log in (HTTP Basic with a demo token), the
 * webhooks with their charts, the log filtered and searched, one delivery redelivered, a
 * range recovered, a webhook disabled; then what must not happen: a receiver's markup running,
 * a form accepted without its CSRF token (or from another site), another scope's delivery
 * shown. Screenshots of the pages are checked not to be blank.
 *
 * Nothing waits for time to pass: pages are reloaded until the registry's state shows
 * (`expect.poll`), and the deliveries are awaited through the worker's events.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Dialog, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser, launchChromium } from './chromium.js';
import { decodePng, distinctColours } from './png.js';
import { EVIL_BODY, RECEIVER_SECRET, type Scenario, startScenario } from './scenario.js';

const POLL = { timeout: 30_000, interval: 100 };
const SLOW = 60_000;

describeBrowser('delivery-log UI in Chromium', () => {
  let scenario: Scenario;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let shots = '';
  const dialogs: Dialog[] = [];
  const pageErrors: string[] = [];

  /** A context logged in with a demo token (HTTP Basic, answered when the UI asks). */
  async function loggedIn(token: string): Promise<BrowserContext> {
    return browser.newContext({
      httpCredentials: { username: 'demo', password: token, origin: scenario.url },
      viewport: { width: 1280, height: 900 },
    });
  }

  /** Screenshot of the page, written to the temp dir; fails when it is one colour. */
  async function screenshot(name: string): Promise<void> {
    const png = await page.screenshot({ type: 'png', fullPage: true });
    await writeFile(join(shots, `${name}.png`), png);
    const image = decodePng(png);
    expect(image.width).toBe(1280);
    expect(distinctColours(image), `${name}.png looks blank`).toBeGreaterThan(8);
  }

  async function open(path: string): Promise<number> {
    const response = await page.goto(`${scenario.ui}${path}`);
    return response?.status() ?? 0;
  }

  beforeAll(async () => {
    shots = await mkdtemp(join(tmpdir(), 'hookline-ui-shots-'));
    scenario = await startScenario();
    browser = await launchChromium();
    context = await loggedIn('demo-token-bigevents');
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog);
      // The page's own confirm() before a destructive form is answered "yes"; anything else no.
      void (dialog.type() === 'confirm' ? dialog.accept() : dialog.dismiss());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, SLOW);

  afterAll(async () => {
    await browser?.close();
    await scenario?.close();
    if (shots) await rm(shots, { recursive: true, force: true });
  });

  it('logs in with HTTP Basic and lists the webhooks with health and a chart each', async () => {
    // The index offers the token's one scope, so it goes straight to its webhooks.
    expect(await open('/')).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/ui/bigevents/webhooks');
    const rows = page.locator('table.webhooks tbody tr[data-webhook-id]');
    await expect.poll(() => rows.count()).toBe(4);
    const { ok, evil, flaky, spare } = scenario.hooks;
    for (const hook of [ok, evil, flaky, spare]) {
      const row = page.locator(`tr[data-webhook-id="${hook.id}"]`);
      expect(await row.locator('span.badge.enabled').count()).toBe(1);
      expect(await row.locator('svg.chart[role="img"]').count()).toBe(1);
      expect(await row.textContent()).toContain(`${scenario.receiver.url}/`);
    }
    // The charts draw the attempts: the ok webhook's successes, the evil webhook's failure.
    expect(await page.locator(`tr[data-webhook-id="${ok.id}"]`).textContent()).toContain('100 %');
    expect(await page.locator(`tr[data-webhook-id="${evil.id}"] .badge.failed`).textContent()).toBe('500');
    expect(await page.locator(`tr[data-webhook-id="${ok.id}"] svg.chart rect.ok`).count()).toBeGreaterThan(0);
    expect(
      await page.locator(`tr[data-webhook-id="${evil.id}"] svg.chart rect.fail`).count(),
    ).toBeGreaterThan(0);
    // The other scope's webhook is not listed.
    expect(await page.locator(`tr[data-webhook-id="${scenario.hooks.shop.id}"]`).count()).toBe(0);
    await screenshot('webhooks');
  });

  it('lists the deliveries newest first, filters by state and type, finds a notification', async () => {
    expect(await open('/bigevents/deliveries')).toBe(200);
    const rows = page.locator('table.deliveries tbody tr[data-delivery-id]');
    const ids = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-delivery-id')));
    const { ok, evil, flaky, spare } = scenario.deliveries;
    const all = [...ok, ...evil, ...flaky, ...spare];
    const shown = await ids();
    expect([...shown].sort()).toEqual(all.map((d) => d.id).sort());
    // Newest first: creation times never increase down the table.
    const created = new Map(all.map((d) => [d.id, d.createdAt.getTime()]));
    const times = shown.map((id) => created.get(id ?? '') ?? Number.NaN);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(shown[0]).toBe(spare[0]?.id);
    expect(shown.at(-1)).toBe(ok[0]?.id);
    await screenshot('deliveries');

    // The state select submits the form by itself (the page's script).
    await Promise.all([
      page.waitForURL(/[?&]state=failed/),
      page.selectOption('form.filters select[name="state"]', 'failed'),
    ]);
    expect((await ids()).sort()).toEqual([...evil, ...flaky].map((d) => d.id).sort());
    expect(await rows.locator('span.badge.failed').count()).toBe(3);

    await open('/bigevents/deliveries');
    await page.fill('form.filters input[name="type"]', 'pretix.event.order.paid');
    await Promise.all([page.waitForURL(/[?&]type=/), page.click('form.filters button:text("Filter")')]);
    expect((await ids()).sort()).toEqual(ok.map((d) => d.id).sort());

    await open('/bigevents/deliveries');
    await page.fill('form.filters input[name="q"]', scenario.firstPaidNotification);
    await Promise.all([page.waitForURL(/[?&]q=/), page.click('form.filters button:text("Filter")')]);
    expect(await ids()).toEqual([ok[0]?.id]);

    // A bad filter is a 400 page saying what is wrong.
    expect(await open('/bigevents/deliveries?since=yesterday')).toBe(400);
    expect(await page.textContent('main')).toMatch(/since must be/);
  });

  it('opens a delivery, redelivers it, and shows the new attempt', async () => {
    const delivery = scenario.deliveries.ok[1];
    if (!delivery) throw new Error('no delivery');
    await open('/bigevents/deliveries');
    await Promise.all([
      page.waitForURL(`**/deliveries/${delivery.id}`),
      page.click(`tr[data-delivery-id="${delivery.id}"] a[href$="/deliveries/${delivery.id}"]`),
    ]);
    expect(await page.textContent('h1')).toBe(delivery.id);
    expect(await page.locator('dl.summary .badge.succeeded').count()).toBe(1);
    expect(await page.locator('#attempts article.attempt').count()).toBe(1);
    // The request as sent, its credential header masked.
    const request = await page.textContent('#request');
    expect(request).toContain(`POST ${scenario.receiver.url}/ok`);
    expect(request).toContain('••••••');
    expect(await page.content()).not.toContain(RECEIVER_SECRET);
    expect(await page.textContent('#request pre.body')).toContain('"code": "PAID2"');

    const before = scenario.receiver.hits.get('/ok') ?? 0;
    await Promise.all([page.waitForURL(/notice=redelivered/), page.click('button:text("Redeliver")')]);
    expect(await page.textContent('p.notice[role="status"]')).toBeTruthy();
    await expect
      .poll(async () => {
        await page.reload();
        return page.locator('#attempts article.attempt').count();
      }, POLL)
      .toBe(2);
    await expect
      .poll(async () => {
        await page.reload();
        return page.locator('dl.summary .badge.succeeded').count();
      }, POLL)
      .toBe(1);
    expect(scenario.receiver.hits.get('/ok')).toBe(before + 1);
    await screenshot('delivery');
  });

  it("shows a receiver's <script> and <img onerror> as text and runs nothing", async () => {
    const delivery = scenario.deliveries.evil[0];
    if (!delivery) throw new Error('no delivery');
    const dialogsBefore = dialogs.length;
    const response = await page.goto(`${scenario.ui}/bigevents/deliveries/${delivery.id}`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(response?.headers()['x-frame-options']).toBe('DENY');
    await page.waitForLoadState('load');

    const body = page.locator('#attempts article.attempt pre.body');
    expect(await body.textContent()).toBe(EVIL_BODY);
    expect(await page.locator('#attempts img').count()).toBe(0);
    expect(await page.locator('#attempts script').count()).toBe(0);
    // The notification's own data holds markup too: shown as text in the request.
    expect(await page.textContent('#request pre.body')).toContain('<script>window.__xss=3</script>');
    expect(await page.locator('#request script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs.length).toBe(dialogsBefore);
    expect(pageErrors).toEqual([]);
    await screenshot('delivery-evil');
  });

  it('recovers a range on the webhook page: the failed deliveries are sent again and succeed', async () => {
    const { flaky } = scenario.hooks;
    scenario.receiver.flakyFails = false;
    expect(await open(`/bigevents/webhooks/${flaky.id}`)).toBe(200);
    expect(await page.locator('svg.chart[role="img"]').count()).toBe(1);
    const dialogsBefore = dialogs.length;
    await page.fill('form.recover input[name="since"]', '1h');
    await Promise.all([
      page.waitForURL(/notice=recovered/),
      page.click('form.recover button:text("Recover")'),
    ]);
    // The page asked first (its confirm), and said what it queued.
    expect(dialogs.length).toBe(dialogsBefore + 1);
    expect(new URL(page.url()).searchParams.get('queued')).toBe('2');
    expect(await page.textContent('p.notice[role="status"]')).toBeTruthy();

    const flakyIds = scenario.deliveries.flaky.map((d) => d.id);
    await expect
      .poll(
        async () =>
          (await Promise.all(flakyIds.map((id) => scenario.registry.getDelivery('bigevents', id)))).map(
            (d) => d.state,
          ),
        POLL,
      )
      .toEqual(['succeeded', 'succeeded']);
    await open(`/bigevents/deliveries?state=failed&webhook=${flaky.id}`);
    expect(await page.locator('table.deliveries tbody tr').count()).toBe(0);
    await open(`/bigevents/deliveries?state=succeeded&webhook=${flaky.id}`);
    expect(await page.locator('table.deliveries tbody tr[data-delivery-id]').count()).toBe(2);
    // The other failed delivery (another webhook) was left alone.
    expect(
      (await scenario.registry.getDelivery('bigevents', scenario.deliveries.evil[0]?.id ?? '')).state,
    ).toBe('failed');
  });

  it('disables a webhook with its button; the list shows it disabled', async () => {
    const { spare } = scenario.hooks;
    expect(await open(`/bigevents/webhooks/${spare.id}`)).toBe(200);
    await Promise.all([page.waitForURL(/notice=disabled/), page.click('button:text("Disable")')]);
    expect(await page.locator('dl.summary span.badge.disabled').count()).toBe(1);
    expect(await page.locator('button:text("Enable")').count()).toBe(1);
    expect((await scenario.registry.get('bigevents', spare.id)).enabled).toBe(false);
    await open('/bigevents/webhooks');
    expect(await page.locator(`tr[data-webhook-id="${spare.id}"] span.badge.disabled`).count()).toBe(1);
    expect(
      await page.locator(`tr[data-webhook-id="${scenario.hooks.ok.id}"] span.badge.enabled`).count(),
    ).toBe(1);
    await screenshot('webhooks-disabled');
  });

  it('refuses a POST without the CSRF token, with a wrong one, and from another site', async () => {
    const { ok } = scenario.hooks;
    await open(`/bigevents/webhooks/${ok.id}`);
    const disable = `${scenario.ui}/bigevents/webhooks/${ok.id}/disable`;
    // The browser's cookies (the CSRF cookie included) and credentials go with these requests.
    const cookies = await context.cookies(`${scenario.ui}/`);
    expect(cookies.map((c) => c.name)).toContain('hookline_csrf');
    const without = await page.request.post(disable, { form: {}, maxRedirects: 0 });
    expect(without.status()).toBe(403);
    const wrong = await page.request.post(disable, { form: { _csrf: 'x'.repeat(43) }, maxRedirects: 0 });
    expect(wrong.status()).toBe(403);
    expect((await scenario.registry.get('bigevents', ok.id)).enabled).toBe(true);

    // The page's own token works (so the refusals above were about the token).
    const token = await page.getAttribute('form[action$="/ping"] input[name="_csrf"]', 'value');
    expect(token).toBeTruthy();
    const ping = await page.request.post(`${scenario.ui}/bigevents/webhooks/${ok.id}/ping`, {
      form: { _csrf: token ?? '' },
      maxRedirects: 0,
    });
    expect(ping.status()).toBe(303);

    // A page on another site (localhost is not 127.0.0.1) posting a form with a stolen-looking
    // token: the browser marks it cross-site, the UI refuses it.
    const attacker = await attackerPage(disable, token ?? '');
    try {
      await page.goto(attacker.url);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === disable),
        page.click('button'),
      ]);
      expect(response.status()).toBe(403);
      expect((await scenario.registry.get('bigevents', ok.id)).enabled).toBe(true);
    } finally {
      await attacker.close();
    }
  });

  it("answers 404 for another scope's delivery, and for a scope the login may not see", async () => {
    const shopDelivery = scenario.deliveries.shop[0]?.id ?? '';
    const bigDelivery = scenario.deliveries.ok[0]?.id ?? '';
    // bigevents' login: the shop delivery under bigevents, and shop's pages, are not found.
    expect(await open(`/bigevents/deliveries/${shopDelivery}`)).toBe(404);
    expect(await page.textContent('main')).not.toContain(shopDelivery.slice(4));
    expect(await open(`/shop/deliveries/${shopDelivery}`)).toBe(404);
    expect(await open('/shop/webhooks')).toBe(404);
    expect(await open(`/bigevents/webhooks/${scenario.hooks.shop.id}`)).toBe(404);

    // The merchant's login (scopes default and shop): shop's delivery under default is not found,
    // under shop it is shown; bigevents is not found.
    const merchant = await loggedIn('demo-token-merchant');
    try {
      const other = await merchant.newPage();
      const status = async (path: string) => (await other.goto(`${scenario.ui}${path}`))?.status();
      expect(await status(`/default/deliveries/${shopDelivery}`)).toBe(404);
      expect(await status(`/shop/deliveries/${shopDelivery}`)).toBe(200);
      expect(await status(`/bigevents/deliveries/${bigDelivery}`)).toBe(404);
      // Two scopes: the index lists both.
      expect(await status('/')).toBe(200);
      expect(await other.locator('ul.scopes a').allTextContents()).toEqual(['default', 'shop']);
    } finally {
      await merchant.close();
    }

    // Without credentials the browser is asked to log in (a browser with none to give stops
    // there, so this one is asked over plain HTTP).
    for (const path of ['/', '/bigevents/webhooks', `/bigevents/deliveries/${bigDelivery}`]) {
      const response = await fetch(`${scenario.ui}${path}`, { redirect: 'manual' });
      expect(response.status, path).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="hookline"/);
      expect(await response.text()).not.toContain(bigDelivery);
    }
  });

  it('the screenshot check tells a blank page from a rendered one', async () => {
    const blank = await browser.newPage({ viewport: { width: 320, height: 200 } });
    try {
      await blank.setContent('<body style="background:#fff"></body>');
      expect(distinctColours(decodePng(await blank.screenshot({ type: 'png' })))).toBe(1);
    } finally {
      await blank.close();
    }
  });
});

/** A page on `http://localhost:<port>` (another site than 127.0.0.1) with a form aimed at `action`. */
async function attackerPage(action: string, token: string): Promise<{ url: string; close(): Promise<void> }> {
  const markup = `<!doctype html><form method="post" action="${action}"><input type="hidden" name="_csrf" value="${token}"><button>Win a prize</button></form>`;
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(markup);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
