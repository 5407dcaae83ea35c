/**
 * deliveryLogUi(): the POST actions (redeliver, cancel retries, enable, disable, test ping,
 * recover a range), their notices, and the answers for bad forms (400, 409, 413, 415).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BASE,
  Browser,
  findForm,
  formBody,
  HOUR,
  location,
  noticeText,
  type Setup,
  setup,
  tags,
} from './handler-helpers.js';

let current: Setup | null = null;
afterEach(async () => {
  await current?.worker.stop();
  current = null;
});

/** Receivers at `down*.example` answer 500, others 200; no retries (one attempt decides). */
function fixture() {
  const s = setup({
    respond: (url) => (new URL(url).hostname.startsWith('down') ? 500 : 200),
    registry: { retryPolicy: { name: 'none', delaysMs: [] } },
  });
  current = s;
  return s;
}

async function emit(s: Setup, type = 'order.paid'): Promise<string[]> {
  return (await s.registry.emit({ scope: 'acme', type, data: {} })).deliveryIds;
}

/** The badge classes of a page's `<dl class="summary">` (the delivery's or webhook's state). */
function summaryBadge(page: string): string | undefined {
  const summary = page.slice(page.indexOf('<dl class="summary">'));
  return tags(summary)
    .find((t) => t.name === 'span' && (t.attributes.get('class') ?? '').startsWith('badge '))
    ?.attributes.get('class');
}

describe('delivery actions', () => {
  it('redeliver: a failed delivery is pending again, and the worker makes a new attempt', async () => {
    const s = fixture();
    await s.registry.create('acme', { url: 'https://down.example/hook', eventTypes: ['order.paid'] });
    const [id] = (await emit(s)) as [string];
    await s.worker.drain();
    s.clock.advance(HOUR);
    const browser = new Browser(s.ui);
    const page = `${BASE}/acme/deliveries/${id}`;
    const before = await browser.get(page);
    expect(summaryBadge(before.text)).toBe('badge failed');
    expect(findForm(before.text, `${page}/cancel`)).toBeNull();

    const result = await browser.submit(page, `${page}/redeliver`);
    expect(location(result)).toBe(`${page}?notice=redelivered`);
    expect(await s.registry.getDelivery('acme', id)).toMatchObject({ state: 'pending', attemptCount: 0 });
    const after = await browser.get(location(result));
    expect(noticeText(after.text)).toBe('Queued again: a new series of attempts starts now.');
    expect(summaryBadge(after.text)).toBe('badge pending');
    expect(findForm(after.text, `${page}/cancel`)).not.toBeNull();

    await s.worker.drain();
    expect(s.transport.requests).toHaveLength(2);
    const attempts = tags((await browser.get(page)).text).filter(
      (t) => t.name === 'article' && t.attributes.get('class') === 'attempt',
    );
    expect(attempts).toHaveLength(2);
    const ids = attempts.map((t) => Number(t.attributes.get('data-attempt-id')));
    expect(ids[0]).toBeGreaterThan(ids[1] as number); // newest first
  });

  it('cancel retries: a pending delivery is canceled and never sent', async () => {
    const s = fixture();
    await s.registry.create('acme', { url: 'https://up.example/hook', eventTypes: ['order.paid'] });
    const [id] = (await emit(s)) as [string];
    const browser = new Browser(s.ui);
    const page = `${BASE}/acme/deliveries/${id}`;
    expect(findForm((await browser.get(page)).text, `${page}/redeliver`)).toBeNull();
    const result = await browser.submit(page, `${page}/cancel`);
    expect(location(result)).toBe(`${page}?notice=canceled`);
    expect(await s.registry.getDelivery('acme', id)).toMatchObject({
      state: 'canceled',
      lastError: 'canceled from the delivery log',
    });
    const after = await browser.get(location(result));
    expect(noticeText(after.text)).toBe('Retries canceled: the delivery will not be attempted again.');
    expect(summaryBadge(after.text)).toBe('badge canceled');
    await s.worker.drain();
    expect(s.transport.requests).toHaveLength(0);
  });

  it('redelivering a pending delivery, or canceling a finished one, is 409 and changes nothing', async () => {
    const s = fixture();
    await s.registry.create('acme', { url: 'https://up.example/hook', eventTypes: ['order.paid'] });
    const [pending] = (await emit(s)) as [string];
    const browser = new Browser(s.ui);
    const page = `${BASE}/acme/deliveries/${pending}`;
    const token = findForm((await browser.get(page)).text, `${page}/cancel`)?.hidden._csrf as string;
    const redeliver = await browser.post(`${page}/redeliver`, { _csrf: token });
    expect(redeliver.status).toBe(409);
    expect(redeliver.text).toContain('Not possible now');
    expect(await s.registry.getDelivery('acme', pending)).toMatchObject({
      state: 'pending',
      attemptCount: 0,
    });

    await s.worker.drain();
    expect((await s.registry.getDelivery('acme', pending)).state).toBe('succeeded');
    const cancel = await browser.post(`${page}/cancel`, { _csrf: token });
    expect(cancel.status).toBe(409);
    expect((await s.registry.getDelivery('acme', pending)).state).toBe('succeeded');
  });
});

describe('webhook actions', () => {
  it('disable and enable', async () => {
    const s = fixture();
    const hook = await s.registry.create('acme', {
      url: 'https://up.example/hook',
      eventTypes: ['order.paid'],
    });
    const browser = new Browser(s.ui);
    const page = `${BASE}/acme/webhooks/${hook.id}`;
    const disabled = await browser.submit(page, `${page}/disable`);
    expect(location(disabled)).toBe(`${page}?notice=disabled`);
    expect(await s.registry.get('acme', hook.id)).toMatchObject({ enabled: false, disabledReason: 'manual' });
    const after = await browser.get(location(disabled));
    expect(noticeText(after.text)).toBe(
      'Webhook disabled: nothing more is sent to it until it is enabled again.',
    );
    expect(summaryBadge(after.text)).toBe('badge disabled');
    expect(after.text).toContain('disabled by hand');
    expect(findForm(after.text, `${page}/disable`)).toBeNull();
    expect(findForm(after.text, `${page}/ping`)).toBeNull();
    const list = await browser.get(`${BASE}/acme/webhooks`);
    expect(list.text).toContain('<span class="badge disabled">');

    const enabled = await browser.submit(page, `${page}/enable`);
    expect(location(enabled)).toBe(`${page}?notice=enabled`);
    expect((await s.registry.get('acme', hook.id)).enabled).toBe(true);
    expect(noticeText((await browser.get(location(enabled))).text)).toBe('Webhook enabled.');
  });

  it('send test ping: a new hookline.ping delivery, sent by the worker', async () => {
    const s = fixture();
    const hook = await s.registry.create('acme', {
      url: 'https://up.example/hook',
      eventTypes: ['order.paid'],
    });
    const browser = new Browser(s.ui);
    const page = `${BASE}/acme/webhooks/${hook.id}`;
    const result = await browser.submit(page, `${page}/ping`);
    const target = location(result);
    const match = /^\/ui\/acme\/deliveries\/([^/?]+)\?notice=pinged$/.exec(target);
    expect(match, target).not.toBeNull();
    const delivery = await s.registry.getDelivery('acme', match?.[1] as string);
    expect(delivery).toMatchObject({ type: 'hookline.ping', webhookId: hook.id, state: 'pending' });
    const shown = await browser.get(target);
    expect(noticeText(shown.text)).toBe('Test ping queued.');
    expect(shown.text).toContain('hookline.ping');
    await s.worker.drain();
    expect(s.transport.requests.map((r) => r.url)).toEqual(['https://up.example/hook']);
    expect(JSON.parse(s.transport.requests[0]?.body ?? '{}')).toMatchObject({ type: 'hookline.ping' });
  });
});

describe('recover', () => {
  /** Webhooks a (down), b (down) and c (up): 2 failed of a, 1 failed of b, 1 canceled of a, 1 succeeded. */
  async function failures() {
    const s = fixture();
    const a = await s.registry.create('acme', { url: 'https://down-a.example/hook', eventTypes: ['a.*'] });
    const b = await s.registry.create('acme', { url: 'https://down-b.example/hook', eventTypes: ['b.*'] });
    await s.registry.create('acme', { url: 'https://up.example/hook', eventTypes: ['c.*'] });
    const failedA = [...(await emit(s, 'a.one')), ...(await emit(s, 'a.two'))];
    const [canceledA] = (await emit(s, 'a.three')) as [string];
    await s.registry.cancel('acme', canceledA);
    const failedB = await emit(s, 'b.one');
    const [succeeded] = (await emit(s, 'c.one')) as [string];
    await s.worker.drain();
    s.clock.advance(HOUR);
    const state = async (ids: readonly string[]) =>
      Promise.all(ids.map(async (id) => (await s.registry.getDelivery('acme', id)).state));
    expect(await state([...failedA, ...failedB, canceledA, succeeded])).toEqual([
      'failed',
      'failed',
      'failed',
      'canceled',
      'succeeded',
    ]);
    return { s, a, b, failedA, failedB, canceledA, succeeded, state, browser: new Browser(s.ui) };
  }

  it('scope-wide: the failed deliveries of every webhook are queued again, with a notice of the counts', async () => {
    const f = await failures();
    const list = `${BASE}/acme/webhooks`;
    const result = await f.browser.submit(list, `${BASE}/acme/recover`, { since: '24h', states: 'failed' });
    expect(location(result)).toBe(`${list}?notice=recovered&queued=3&skipped=0`);
    expect(noticeText((await f.browser.get(location(result))).text)).toBe(
      'Recovered: 3 deliveries queued again.',
    );
    expect(await f.state([...f.failedA, ...f.failedB])).toEqual(['pending', 'pending', 'pending']);
    expect(await f.state([f.canceledA, f.succeeded])).toEqual(['canceled', 'succeeded']);
  });

  it('per webhook, with canceled too; deliveries of a disabled webhook are counted as skipped', async () => {
    const f = await failures();
    const page = `${BASE}/acme/webhooks/${f.a.id}`;
    const result = await f.browser.submit(page, `${page}/recover`, {
      since: '2h',
      until: '',
      states: ['failed', 'canceled'],
    });
    expect(location(result)).toBe(`${page}?notice=recovered&queued=3&skipped=0`);
    expect(await f.state([...f.failedA, f.canceledA])).toEqual(['pending', 'pending', 'pending']);
    expect(await f.state(f.failedB)).toEqual(['failed']);

    await f.s.registry.disable('acme', f.b.id);
    const skipped = await f.browser.submit(`${BASE}/acme/webhooks`, `${BASE}/acme/recover`, {
      since: '1d',
      states: 'failed',
    });
    expect(location(skipped)).toBe(`${BASE}/acme/webhooks?notice=recovered&queued=0&skipped=1`);
    expect(noticeText((await f.browser.get(location(skipped))).text)).toBe(
      'Recovered: 0 deliveries queued again, 1 skipped (webhook disabled or deleted).',
    );
    expect(await f.state(f.failedB)).toEqual(['failed']);
  });

  it('a range that ended before the failures queues nothing; ISO times are accepted', async () => {
    const f = await failures();
    const result = await f.browser.submit(`${BASE}/acme/webhooks`, `${BASE}/acme/recover`, {
      since: '2026-03-09T00:00Z',
      until: '2026-03-10T11:59Z',
      states: 'failed',
    });
    expect(location(result)).toBe(`${BASE}/acme/webhooks?notice=recovered&queued=0&skipped=0`);
    expect(await f.state(f.failedA)).toEqual(['failed', 'failed']);
  });

  it('bad forms are a 400 page with the problem, and change nothing', async () => {
    const f = await failures();
    const list = `${BASE}/acme/webhooks`;
    const cases: [Record<string, string | string[]>, string][] = [
      [{ since: 'yesterday', states: 'failed' }, 'since must be a UTC date and time'],
      [{ since: '', states: 'failed' }, 'since must be a UTC date and time'],
      [{ since: '24h', until: 'soon', states: 'failed' }, 'until must be empty (now)'],
      [{ since: '24h' }, 'Pick at least one state'],
      [{ since: '24h', states: 'pending' }, 'states'],
      [{ since: '1h', until: '2h', states: 'failed' }, 'Some values are not valid'],
    ];
    for (const [fields, message] of cases) {
      const result = await f.browser.submit(list, `${BASE}/acme/recover`, fields);
      expect(result.status, JSON.stringify(fields)).toBe(400);
      expect(result.text, JSON.stringify(fields)).toContain(message);
      expect(result.text).toContain('role="alert"');
    }
    expect(await f.state([...f.failedA, ...f.failedB])).toEqual(['failed', 'failed', 'failed']);
  });
});

describe('form bodies', () => {
  async function disableForm() {
    const s = fixture();
    const hook = await s.registry.create('acme', {
      url: 'https://up.example/hook',
      eventTypes: ['order.paid'],
    });
    const browser = new Browser(s.ui);
    const page = `${BASE}/acme/webhooks/${hook.id}`;
    const action = `${page}/disable`;
    const token = findForm((await browser.get(page)).text, action)?.hidden._csrf as string;
    const enabled = async () => (await s.registry.get('acme', hook.id)).enabled;
    return { s, browser, action, token, enabled };
  }

  it('a POST that is not a form is 415', async () => {
    const f = await disableForm();
    for (const type of ['application/json', 'text/plain', 'multipart/form-data; boundary=x', null]) {
      const headers: Record<string, string> = type === null ? {} : { 'content-type': type };
      const body =
        type === 'application/json' ? JSON.stringify({ _csrf: f.token }) : formBody({ _csrf: f.token });
      const result = await f.browser.request('POST', f.action, { headers, body });
      expect(result.status, String(type)).toBe(415);
      expect(result.text).toContain('Not a form');
    }
    expect(await f.enabled()).toBe(true);
    // The type's parameters and case do not matter.
    const accepted = await f.browser.request('POST', f.action, {
      headers: { 'content-type': 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' },
      body: formBody({ _csrf: f.token }),
    });
    expect(accepted.status).toBe(303);
    expect(await f.enabled()).toBe(false);
  });

  it('a form of more than 16 KiB is 413; 16 KiB is accepted', async () => {
    const f = await disableForm();
    const sized = (bytes: number) => {
      const head = `_csrf=${f.token}&pad=`;
      return head + 'x'.repeat(bytes - head.length);
    };
    const post = (body: string | ReadableStream<Uint8Array>) =>
      f.browser.request('POST', f.action, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        ...(typeof body === 'string' ? {} : { duplex: 'half' }),
      } as RequestInit);
    const tooLarge = await post(sized(16 * 1024 + 1));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.text).toContain('more than 16 KiB');
    // Streamed in chunks, without a length: stops reading at the limit.
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 1000) controller.close();
        else
          controller.enqueue(
            new TextEncoder().encode(pulled === 1 ? `_csrf=${f.token}&pad=` : 'y'.repeat(1024)),
          );
      },
    });
    expect((await post(stream)).status).toBe(413);
    expect(pulled).toBeLessThan(40);
    // A declared Content-Length over the limit is refused before reading anything.
    let read = 0;
    const declared = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          read++;
          controller.enqueue(new TextEncoder().encode(`_csrf=${f.token}`));
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const refused = await f.browser.request('POST', f.action, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(64 * 1024) },
      body: declared,
      duplex: 'half',
    } as RequestInit);
    expect(refused.status).toBe(413);
    expect(read).toBe(0);
    expect(await f.enabled()).toBe(true);
    expect((await post(sized(16 * 1024))).status).toBe(303);
    expect(await f.enabled()).toBe(false);
  });
});

describe('notices', () => {
  it('only the fixed notices render; nothing of the URL reaches the page', async () => {
    const s = fixture();
    const browser = new Browser(s.ui);
    const page = `${BASE}/acme/webhooks`;
    for (const notice of [
      '<script>alert(1)</script>',
      'Hacked! Call +1 555 0100',
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      '',
    ]) {
      const result = await browser.get(`${page}?notice=${encodeURIComponent(notice)}`);
      expect(result.status).toBe(200);
      expect(noticeText(result.text), notice).toBeNull();
      if (notice !== '') expect(result.text, notice).not.toContain(notice.slice(0, 8));
    }
    const counts = await browser.get(
      `${page}?notice=recovered&queued=${encodeURIComponent('<b>9</b>')}&skipped=-3`,
    );
    expect(noticeText(counts.text)).toBe('Recovered: 0 deliveries queued again.');
    expect(counts.text).not.toContain('<b>9');
    const one = await browser.get(`${page}?notice=recovered&queued=1&skipped=2`);
    expect(noticeText(one.text)).toBe(
      'Recovered: 1 delivery queued again, 2 skipped (webhook disabled or deleted).',
    );
    const known = await browser.get(`${page}?notice=pinged`);
    expect(noticeText(known.text)).toBe('Test ping queued.');
  });
});
