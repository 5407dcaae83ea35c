/**
 * The delivery log of a scope (filters, search, pages, newest first) and one delivery with
 * the request as sent and every attempt.
 *
 * @module
 */
import { ValidationError, type ValidationIssue } from '../../errors.js';
import { DELIVERY_STATES, type Delivery, type DeliveryState } from '../../model.js';
import type { SearchDeliveriesOptions } from '../../registry/log.js';
import type { WebhookRegistry } from '../../registry/registry.js';
import type { DeliveryLine } from '../../stores/types.js';
import { formatMs } from '../chart.js';
import { html, type SafeHtml } from '../html.js';
import { actionForm, badge, href, layout, type PageContext, time } from './layout.js';
import { prettyBody, redactedUrl, shownHeaderValue } from './redact.js';
import { parseInstant } from './time.js';

/** Deliveries per page of the log. */
const DELIVERIES_PER_PAGE = 50;
/** Attempts shown on a delivery's page (newest first). */
const ATTEMPTS_SHOWN = 100;

/** The log's filters as the query string has them. */
interface Filters {
  state: string;
  type: string;
  webhook: string;
  since: string;
  until: string;
  q: string;
}

const param = (url: URL, name: string): string => (url.searchParams.get(name) ?? '').trim();

/** Reads the filters of the query string into search options; bad values are a ValidationError. */
function searchOptions(url: URL, now: Date): { filters: Filters; options: SearchDeliveriesOptions } {
  const filters: Filters = {
    state: param(url, 'state'),
    type: param(url, 'type'),
    webhook: param(url, 'webhook'),
    since: param(url, 'since'),
    until: param(url, 'until'),
    q: param(url, 'q'),
  };
  const issues: ValidationIssue[] = [];
  const options: SearchDeliveriesOptions = { limit: DELIVERIES_PER_PAGE };
  if (filters.state !== '') {
    if ((DELIVERY_STATES as readonly string[]).includes(filters.state))
      options.states = [filters.state as DeliveryState];
    else
      issues.push({
        path: ['state'],
        code: 'invalid_state',
        message: `state must be one of ${DELIVERY_STATES.join(', ')}.`,
      });
  }
  if (filters.type !== '') options.types = [filters.type];
  if (filters.webhook !== '') {
    const id = Number(filters.webhook);
    if (Number.isSafeInteger(id) && id > 0) options.webhookId = id;
    else
      issues.push({
        path: ['webhook'],
        code: 'invalid_id',
        message: 'webhook must be a webhook id (a positive integer).',
      });
  }
  for (const name of ['since', 'until'] as const) {
    if (filters[name] === '') continue;
    const at = parseInstant(filters[name], now);
    if (at === null)
      issues.push({
        path: [name],
        code: 'invalid_date',
        message: `${name} must be a UTC date and time like 2026-12-04T10:00Z, or an age like 30m, 24h, 7d.`,
      });
    else options[name] = at;
  }
  if (filters.q !== '') options.id = filters.q;
  const cursor = param(url, 'cursor');
  if (cursor !== '') options.cursor = cursor;
  if (issues.length > 0) throw new ValidationError(issues);
  return { filters, options };
}

/** A pending ordered delivery waiting behind its line: no due time until it is the head. */
function isHeld(d: Delivery): boolean {
  return d.state === 'pending' && d.ordered && d.nextAttemptAt === null;
}

/** When the next attempt is due: a time, "waiting in line", or a dash once finished. */
function nextAttempt(d: Delivery): SafeHtml {
  if (d.state !== 'pending') return html`<span class="muted">–</span>`;
  if (isHeld(d)) return html`<span class="held muted">waiting in line</span>`;
  return time(d.nextAttemptAt);
}

/** The state badge, with "pauses its line" for a failed delivery its ordered line waits behind. */
function stateBadges(d: Delivery): SafeHtml {
  return html`${badge(d.state)}${d.pausesLine ? html` ${badge('paused', 'pauses its line')}` : ''}`;
}

function row(ctx: PageContext, scope: string, d: Delivery): SafeHtml {
  return html`<tr data-delivery-id="${d.id}">
<td>${time(d.createdAt)}</td>
<td class="mono"><a href="${href(ctx, [scope, 'deliveries', d.id])}">${d.id}</a></td>
<td class="num"><a href="${href(ctx, [scope, 'webhooks', d.webhookId])}">${d.webhookId}</a></td>
<td class="mono small">${d.type}${d.event ? html`<div class="muted">${d.event}</div>` : ''}</td>
<td>${stateBadges(d)}</td>
<td class="num">${d.attemptCount}</td>
<td class="num">${d.lastStatus === null ? '–' : d.lastStatus === 0 ? 'no answer' : d.lastStatus}</td>
<td>${nextAttempt(d)}</td>
<td class="small">${d.lastError === null ? '' : d.lastError.length > 140 ? `${d.lastError.slice(0, 140)}…` : d.lastError}</td>
</tr>`;
}

/** The log of a scope. */
export async function deliveriesPage(
  ctx: PageContext,
  registry: WebhookRegistry,
  scope: string,
): Promise<string> {
  const { filters, options } = searchOptions(ctx.url, ctx.now);
  const [page, hooks] = await Promise.all([
    registry.searchDeliveries(scope, options),
    registry.list(scope, { pageSize: 1000 }),
  ]);
  const select = (name: string, current: string, values: readonly { value: string; label: string }[]) =>
    html`<select name="${name}">${values.map((v) => html`<option value="${v.value}"${v.value === current ? ' selected' : ''}>${v.label}</option>`)}</select>`;
  const form = html`<form class="filters card" method="get" action="${href(ctx, [scope, 'deliveries'])}" data-autosubmit>
<label>State ${select('state', filters.state, [{ value: '', label: 'any' }, ...DELIVERY_STATES.map((s) => ({ value: s, label: s }))])}</label>
<label>Webhook ${select('webhook', filters.webhook, [{ value: '', label: 'any' }, ...hooks.items.map((w) => ({ value: String(w.id), label: `#${w.id} ${redactedUrl(w.url).slice(0, 48)}` }))])}</label>
<label>Event type <input name="type" value="${filters.type}" placeholder="pretix.event.order.paid" size="24"></label>
<label>Created since <input name="since" value="${filters.since}" placeholder="24h or 2026-12-04T10:00Z" size="18"></label>
<label>until <input name="until" value="${filters.until}" placeholder="UTC" size="18"></label>
<label>Delivery or notification id <input name="q" value="${filters.q}" placeholder="msg_… or the notification id" size="30" class="mono"></label>
<button type="submit">Filter</button>${Object.values(filters).some((v) => v !== '') ? html` <a href="${href(ctx, [scope, 'deliveries'])}">Clear</a>` : ''}
</form>`;
  const table =
    page.items.length === 0
      ? html`<div class="card empty">No deliveries${Object.values(filters).some((v) => v !== '') ? ' match these filters' : ' yet'}.</div>`
      : html`<table class="deliveries"><thead><tr><th>Created (UTC)</th><th>Delivery</th><th class="num">Webhook</th><th>Type</th><th>State</th><th class="num">Attempts</th><th class="num">Last status</th><th>Next attempt</th><th>Last error</th></tr></thead><tbody>${page.items.map((d) => row(ctx, scope, d))}</tbody></table>`;
  const query = { ...filters };
  const pager = html`<div class="pager">${options.cursor ? html`<a href="${href(ctx, [scope, 'deliveries'], query)}">Newest</a>` : ''}${page.cursor ? html`<a href="${href(ctx, [scope, 'deliveries'], { ...query, cursor: page.cursor })}" rel="next">Older</a>` : ''}</div>`;
  return layout(ctx, {
    title: 'Deliveries',
    current: 'deliveries',
    body: html`<h1>Deliveries</h1>${form}${table}${pager}`,
  });
}

function headersTable(headers: Record<string, string>): SafeHtml {
  const entries = Object.entries(headers);
  if (entries.length === 0) return html`<p class="muted small">No headers.</p>`;
  return html`<table class="headers"><tbody>${entries.map(([name, value]) => html`<tr><th class="mono">${name}</th><td class="mono url">${shownHeaderValue(name, value)}</td></tr>`)}</tbody></table>`;
}

/**
 * Where a pending ordered delivery stands, when the store can tell (`registry.deliveryLine`):
 * "Waiting behind <the blocking delivery> (N ahead in its line)", or "First in its line".
 */
function lineText(ctx: PageContext, scope: string, line: DeliveryLine | null): SafeHtml | null {
  if (line === null) return null;
  const blocker = line.blockedBy;
  if (blocker === null) return html`First in its line`;
  const link = html`<a class="mono" href="${href(ctx, [scope, 'deliveries', blocker.id])}">${blocker.id}</a>`;
  const paused = blocker.pausesLine ? html`; the line is paused until it is redelivered` : '';
  return html`Waiting behind ${link} (${line.ahead} ahead in its line)${paused}`;
}

/** One delivery: summary, actions, the request as sent (no secrets) and every attempt. */
export async function deliveryPage(
  ctx: PageContext,
  registry: WebhookRegistry,
  scope: string,
  id: string,
): Promise<string> {
  const delivery = await registry.getDelivery(scope, id);
  const attempts = await registry.attempts(scope, delivery.id, { pageSize: ATTEMPTS_SHOWN });
  const line =
    delivery.state === 'pending' && delivery.ordered && typeof registry.store.deliveryLine === 'function'
      ? await registry.deliveryLine(scope, delivery.id)
      : null;
  const base = [scope, 'deliveries', delivery.id] as const;
  const finished = delivery.state !== 'pending';
  const paused = delivery.pausesLine
    ? html` <span class="paused-line">${badge('paused', 'pauses its line')} Its line is paused until it is redelivered.</span>`
    : '';
  const actions = html`<div class="actions">${
    finished
      ? actionForm(ctx, href(ctx, [...base, 'redeliver']), 'Redeliver')
      : actionForm(ctx, href(ctx, [...base, 'cancel']), 'Cancel retries', {
          className: 'danger',
          confirm: 'Stop retrying this delivery?',
        })
  }${paused}</div>`;
  const standing = lineText(ctx, scope, line);
  const ordering = delivery.ordered
    ? html`<dt>Ordering key</dt><dd>${delivery.orderingKey === null ? html`<span class="muted">none: the webhook's one line</span>` : html`<span class="mono">${delivery.orderingKey}</span>`}</dd>
${standing ? html`<dt>Line</dt><dd class="line">${standing}</dd>` : ''}`
    : '';
  const summary = html`<dl class="summary">
<dt>State</dt><dd>${stateBadges(delivery)}</dd>
<dt>Webhook</dt><dd><a href="${href(ctx, [scope, 'webhooks', delivery.webhookId])}">#${delivery.webhookId}</a></dd>
<dt>Type</dt><dd class="mono">${delivery.type}</dd>
<dt>Event</dt><dd class="mono">${delivery.event ?? '–'}</dd>
<dt>Notification</dt><dd class="mono"><a href="${href(ctx, [scope, 'deliveries'], { q: delivery.notificationId })}">${delivery.notificationId}</a></dd>
<dt>Created</dt><dd>${time(delivery.createdAt)}</dd>
<dt>Attempts</dt><dd>${delivery.attemptCount} in this series${attempts.count !== delivery.attemptCount ? html` <span class="muted">(${attempts.count} in all)</span>` : ''}</dd>
<dt>Next attempt</dt><dd>${delivery.state === 'pending' ? nextAttempt(delivery) : '–'}</dd>
${ordering}
<dt>Last status</dt><dd>${delivery.lastStatus === null ? '–' : delivery.lastStatus === 0 ? 'no answer' : delivery.lastStatus}</dd>
<dt>Last error</dt><dd>${delivery.lastError ?? '–'}</dd></dl>`;
  const request = html`<section id="request" class="card"><h2>Request as sent</h2>
<p class="mono url">${delivery.request.method} ${redactedUrl(delivery.request.url)}</p>
${headersTable(delivery.request.headers)}
<p class="small muted">Signature headers (webhook-id, webhook-timestamp, webhook-signature) are added at each attempt; values of headers that may hold credentials are masked.</p>
<pre class="body">${prettyBody(delivery.request.body)}</pre></section>`;
  const list =
    attempts.items.length === 0
      ? html`<p class="muted">No attempt yet.</p>`
      : attempts.items.map(
          (a) => html`<article class="attempt" data-attempt="${a.attemptNumber}" data-attempt-id="${a.id}">
<h3>${badge(a.ok ? 'ok' : a.status === 0 ? 'errored' : 'failed', a.status === 0 ? 'no answer' : String(a.status))} Attempt ${a.attemptNumber}${a.retry ? (a.attemptNumber === 1 ? ' (redelivery)' : ' (retry)') : ''} <span class="muted small">${time(a.startedAt)} · ${formatMs(a.durationMs)}</span></h3>
${a.error ? html`<p class="error-box small">${a.error}</p>` : ''}
<details${a.ok ? '' : ' open'}><summary>Response headers and body</summary>${headersTable(a.responseHeaders)}
<pre class="body">${a.responseBody === '' ? '(empty body)' : prettyBody(a.responseBody)}</pre></details></article>`,
        );
  return layout(ctx, {
    title: `Delivery ${delivery.id}`,
    current: 'deliveries',
    body: html`<h1 class="mono">${delivery.id}</h1>${actions}<div class="card">${summary}</div>${request}
<section id="attempts"><h2>Attempts <span class="muted small">${attempts.count}${attempts.count > ATTEMPTS_SHOWN ? `, newest ${ATTEMPTS_SHOWN} shown` : ''}</span></h2>${list}</section>`,
  });
}
