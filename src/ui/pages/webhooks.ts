/**
 * The webhooks of a scope with their health over the last 24 hours, and one webhook's page
 * with its actions (enable or disable, test ping, change its delivery ordering, recover a
 * range).
 *
 * @module
 */
import { ORDERING_FAILURE_MODES, ORDERINGS, type Webhook } from '../../model.js';
import type { WebhookRegistry } from '../../registry/registry.js';
import type { WebhookActivity } from '../../stores/types.js';
import { activityChart, CHART_LEGEND, formatMs } from '../chart.js';
import { html, type SafeHtml } from '../html.js';
import { actionForm, ago, badge, csrfField, href, layout, type PageContext, time } from './layout.js';
import { redactedUrl } from './redact.js';

const HOUR_MS = 3_600_000;

/** The charts' window: 24 hourly buckets on whole hours, the last one up to now. */
function lastDay(now: Date): { since: Date; until: Date } {
  const hour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  return { since: new Date(hour - 23 * HOUR_MS), until: now };
}

/** Webhooks per page of the list. */
const WEBHOOKS_PER_PAGE = 100;

const DISABLED_WHY: Record<string, string> = {
  manual: 'disabled by hand',
  gone: 'disabled: the receiver answered 410 Gone',
  failing: 'disabled: failing too long',
};

function stateBadge(webhook: Webhook): SafeHtml {
  if (webhook.enabled) return badge('enabled');
  const why =
    webhook.disabledReason === null ? 'disabled' : (DISABLED_WHY[webhook.disabledReason] ?? 'disabled');
  return html`${badge('disabled')} <span class="small muted">${why}</span>`;
}

function successRate(a: WebhookActivity | undefined): string {
  if (a === undefined) return '–';
  const total = a.succeeded + a.failed + a.errored;
  if (total === 0) return '–';
  const rate = (a.succeeded / total) * 100;
  return `${rate >= 99.95 || rate === 0 ? rate.toFixed(0) : rate.toFixed(1)} %`;
}

function lastStatus(ctx: PageContext, a: WebhookActivity | undefined): SafeHtml {
  const last = a?.lastAttempt;
  if (!last) return html`<span class="muted">never sent</span>`;
  const status = last.status === 0 ? 'no answer' : String(last.status);
  return html`${badge(last.ok ? 'ok' : last.status === 0 ? 'errored' : 'failed', status)} <span class="small muted">${ago(ctx.now, last.startedAt)} ago</span>`;
}

function events(webhook: Webhook): string {
  const types = webhook.eventTypes.length > 0 ? webhook.eventTypes.join(', ') : 'every type';
  return webhook.allEvents ? types : `${types} (events: ${webhook.limitEvents.join(', ')})`;
}

function failing(webhook: Webhook): SafeHtml {
  if (webhook.consecutiveFailures === 0 && webhook.failingSince === null)
    return html`<span class="muted">0</span>`;
  // failingSince is set from the first failed attempt; consecutiveFailures counts deliveries that
  // ended failed, so a delivery still retrying shows 0 with a "failing since".
  return html`${webhook.consecutiveFailures}${webhook.failingSince ? html` <span class="small muted">failing since ${time(webhook.failingSince)}</span>` : ''}`;
}

/**
 * How a webhook orders its deliveries, in words.
 *
 * @example
 * ```ts
 * orderingText({ ordering: 'fifo', orderingOnFailure: 'pause' }); // 'FIFO (per key) · on failure: pause'
 * ```
 */
export function orderingText(webhook: Pick<Webhook, 'ordering' | 'orderingOnFailure'>): string {
  if (webhook.ordering === 'none') return 'none (deliveries are sent in parallel, in any order)';
  return `FIFO (per key) · on failure: ${webhook.orderingOnFailure}`;
}

/** The form that changes a webhook's ordering (`…/webhooks/{id}/ordering`), for writers only. */
function orderingForm(ctx: PageContext, action: string, webhook: Webhook): SafeHtml | null {
  if (!ctx.canWrite) return null;
  const option = (value: string, label: string, current: string) =>
    html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
  const labels: Record<string, string> = {
    none: 'none (in parallel)',
    fifo: 'FIFO (per key)',
    continue: 'continue with the next',
    pause: 'pause the line',
  };
  return html`<form class="ordering" method="post" action="${action}">${csrfField(ctx)}
<label>Ordering <select name="ordering">${ORDERINGS.map((o) => option(o, labels[o] ?? o, webhook.ordering))}</select></label>
<label>On failure <select name="on_failure">${ORDERING_FAILURE_MODES.map((o) => option(o, labels[o] ?? o, webhook.orderingOnFailure))}</select></label>
<button type="submit" class="secondary">Change ordering</button></form>`;
}

/** The list of a scope's webhooks. */
export async function webhooksPage(
  ctx: PageContext,
  registry: WebhookRegistry,
  scope: string,
): Promise<string> {
  const pageNumber = Math.max(1, Math.floor(Number(ctx.url.searchParams.get('page') ?? '1')) || 1);
  const list = await registry.list(scope, { page: pageNumber, pageSize: WEBHOOKS_PER_PAGE });
  const activity = new Map(
    (
      await registry.webhookActivity(scope, { webhookIds: list.items.map((w) => w.id), ...lastDay(ctx.now) })
    ).map((a) => [a.webhookId, a]),
  );
  const rows = list.items.map((w) => {
    const a = activity.get(w.id);
    return html`<tr data-webhook-id="${w.id}">
<td class="num"><a href="${href(ctx, [scope, 'webhooks', w.id])}">${w.id}</a></td>
<td><div class="url mono">${w.method} ${redactedUrl(w.url)}</div><div class="small muted">${events(w)}</div>${w.comment ? html`<div class="small">${w.comment}</div>` : ''}</td>
<td>${stateBadge(w)}</td>
<td>${lastStatus(ctx, a)}</td>
<td class="num">${successRate(a)}</td>
<td class="num">${formatMs(a?.p50DurationMs ?? null)} / ${formatMs(a?.p95DurationMs ?? null)}</td>
<td class="num">${failing(w)}</td>
<td>${a ? activityChart(a.buckets, { width: 192, height: 40 }, `Webhook ${w.id}, last 24 hours`) : ''}</td>
</tr>`;
  });
  const pages = Math.max(1, Math.ceil(list.count / WEBHOOKS_PER_PAGE));
  const pager =
    pages > 1
      ? html`<div class="pager">${pageNumber > 1 ? html`<a href="${href(ctx, [scope, 'webhooks'], { page: pageNumber - 1 })}" rel="prev">Previous</a>` : ''}<span class="muted">page ${pageNumber} of ${pages}</span>${pageNumber < pages ? html`<a href="${href(ctx, [scope, 'webhooks'], { page: pageNumber + 1 })}" rel="next">Next</a>` : ''}</div>`
      : null;
  const table =
    list.count === 0
      ? html`<div class="card empty">No webhooks in this scope yet.</div>`
      : html`<table class="webhooks"><thead><tr><th class="num">#</th><th>URL and events</th><th>State</th><th>Last attempt</th><th class="num">Success 24 h</th><th class="num">p50 / p95</th><th class="num">Failures in a row</th><th>Attempts per hour, 24 h</th></tr></thead><tbody>${rows}</tbody></table>${CHART_LEGEND}${pager}`;
  return layout(ctx, {
    title: 'Webhooks',
    current: 'webhooks',
    body: html`<h1>Webhooks <span class="muted small">${list.count}</span></h1>${table}${recoverForm(ctx, href(ctx, [scope, 'recover']), 'Recover failed deliveries of every webhook')}`,
  });
}

/** The form that queues failed (and optionally canceled) deliveries of a time range again. */
export function recoverForm(ctx: PageContext, action: string, heading: string): SafeHtml | null {
  if (!ctx.canWrite) return null;
  return html`<div class="card"><h2>${heading}</h2>
<form class="recover" method="post" action="${action}" data-confirm="Queue the deliveries of this range again?">${csrfField(ctx)}
<label>Ended since <input name="since" value="24h" required placeholder="24h or 2026-12-04T10:00Z" size="22"></label>
<label>until (empty: now) <input name="until" placeholder="2026-12-04T12:00Z" size="22"></label>
<label class="check"><input type="checkbox" name="states" value="failed" checked> failed</label>
<label class="check"><input type="checkbox" name="states" value="canceled"> canceled</label>
<button type="submit">Recover</button></form>
<p class="small muted">Times are UTC; "24h", "30m" or "7d" count back from now. Deliveries of disabled webhooks are skipped.</p></div>`;
}

/** One webhook: configuration (never its secrets), health, a larger chart and its actions. */
export async function webhookPage(
  ctx: PageContext,
  registry: WebhookRegistry,
  scope: string,
  id: number,
): Promise<string> {
  const webhook = await registry.get(scope, id);
  const [a] = await registry.webhookActivity(scope, { webhookIds: [webhook.id], ...lastDay(ctx.now) });
  const base = [scope, 'webhooks', webhook.id] as const;
  const actions = html`<div class="actions">
${webhook.enabled ? actionForm(ctx, href(ctx, [...base, 'disable']), 'Disable', { className: 'danger', confirm: 'Disable this webhook? Nothing more is sent to it until it is enabled again.' }) : actionForm(ctx, href(ctx, [...base, 'enable']), 'Enable')}
${webhook.enabled ? actionForm(ctx, href(ctx, [...base, 'ping']), 'Send test ping', { className: 'secondary' }) : ''}
<a href="${href(ctx, [scope, 'deliveries'], { webhook: webhook.id })}">Deliveries of this webhook →</a></div>`;
  const total = a ? a.succeeded + a.failed + a.errored : 0;
  const stats = html`<div class="stats">
<div class="stat"><span class="muted small">Last attempt</span><b>${lastStatus(ctx, a)}</b></div>
<div class="stat"><span class="muted small">Attempts 24 h</span><b>${total}</b></div>
<div class="stat"><span class="muted small">Success 24 h</span><b>${successRate(a)}</b></div>
<div class="stat"><span class="muted small">p50 / p95</span><b>${formatMs(a?.p50DurationMs ?? null)} / ${formatMs(a?.p95DurationMs ?? null)}</b></div>
<div class="stat"><span class="muted small">Failures in a row</span><b>${failing(webhook)}</b></div></div>`;
  const config = html`<dl class="summary">
<dt>State</dt><dd>${stateBadge(webhook)}</dd>
<dt>URL</dt><dd class="url mono">${webhook.method} ${redactedUrl(webhook.url)}</dd>
<dt>Event types</dt><dd>${webhook.eventTypes.length > 0 ? webhook.eventTypes.join(', ') : 'every type'}</dd>
<dt>Events</dt><dd>${webhook.allEvents ? 'all' : webhook.limitEvents.join(', ')}</dd>
${webhook.key ? html`<dt>Key</dt><dd class="mono">${webhook.key}</dd>` : ''}
<dt>Signing secrets</dt><dd>${webhook.secretCount === 0 ? 'none (unsigned)' : `${webhook.secretCount} (not shown)`}</dd>
<dt>Templates</dt><dd>${webhook.headerTemplate ? 'header template' : 'no header template'}, ${webhook.bodyTemplate ? 'body template' : 'default body'}</dd>
<dt>Ordering</dt><dd data-ordering="${webhook.ordering}">${orderingText(webhook)}</dd>
${webhook.comment ? html`<dt>Comment</dt><dd>${webhook.comment}</dd>` : ''}
<dt>Created</dt><dd>${time(webhook.createdAt)}</dd><dt>Updated</dt><dd>${time(webhook.updatedAt)}</dd></dl>`;
  return layout(ctx, {
    title: `Webhook ${webhook.id}`,
    current: 'webhooks',
    body: html`<h1>Webhook ${webhook.id}</h1>${actions}
<div class="card">${stats}${a ? activityChart(a.buckets, { width: 720, height: 140 }, `Webhook ${webhook.id}, last 24 hours`, { wide: true }) : ''}${CHART_LEGEND}</div>
<div class="card">${config}${orderingForm(ctx, href(ctx, [...base, 'ordering']), webhook)}</div>
${recoverForm(ctx, href(ctx, [...base, 'recover']), 'Recover failed deliveries of this webhook')}`,
  });
}
