/**
 * What every page shares: the frame (header, navigation, notice), links, times, badges and
 * POST forms with their CSRF field.
 *
 * @module
 */
import { SCRIPT, STYLESHEET } from '../assets.js';
import { CSRF_FIELD, type CsrfState } from '../csrf.js';
import { type HtmlValue, html, type SafeHtml } from '../html.js';

/** What a page is rendered with. */
export interface PageContext {
  request: Request;
  url: URL;
  /** The UI's base path ('' or '/ui'). */
  base: string;
  /** The page's scope, `null` on the index page. */
  scope: string | null;
  csrf: CsrfState;
  title: string;
  /** Whether the user may change things in this scope (action forms are shown only then). */
  canWrite: boolean;
  now: Date;
}

/** A link below the base path: segments are URL-encoded, `query` values skipped when empty. */
export function href(
  ctx: Pick<PageContext, 'base'>,
  segments: readonly (string | number)[],
  query: Record<string, string | number | null | undefined> = {},
): string {
  const path = `${ctx.base}/${segments.map((s) => encodeURIComponent(String(s))).join('/')}`;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs === '' ? path : `${path}?${qs}`;
}

/** A `<time>`: UTC text, ISO `datetime` (the script adds the local time as a tooltip). */
export function time(date: Date | null): SafeHtml {
  if (date === null) return html`<span class="muted">–</span>`;
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')}</time>`;
}

/** How long ago, roughly: `5 s`, `3 min`, `2 h`, `4 d`. */
export function ago(now: Date, date: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - date.getTime()) / 1000));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 129_600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** A state badge. */
export function badge(state: string, text: string = state): SafeHtml {
  return html`<span class="badge ${state}">${text}</span>`;
}

/**
 * A POST form with one button and the CSRF field, or nothing when the user may not write.
 * `confirm` asks before sending (with the script; without it the form just posts).
 */
export function actionForm(
  ctx: PageContext,
  action: string,
  label: string,
  options: { confirm?: string; className?: string; fields?: HtmlValue } = {},
): SafeHtml | null {
  if (!ctx.canWrite || ctx.scope === null) return null;
  return html`<form class="inline" method="post" action="${action}"${options.confirm ? html` data-confirm="${options.confirm}"` : ''}><input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf.token(ctx.scope)}">${options.fields ?? null}<button type="submit"${options.className ? html` class="${options.className}"` : ''}>${label}</button></form>`;
}

/** The hidden CSRF field for a hand-written form of the page's scope. */
export function csrfField(ctx: PageContext): SafeHtml | null {
  return ctx.scope === null
    ? null
    : html`<input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf.token(ctx.scope)}">`;
}

/** The fixed notices a POST can leave behind (`?notice=`), so no page text comes from the URL. */
const NOTICES: Record<string, string> = {
  redelivered: 'Queued again: a new series of attempts starts now.',
  canceled: 'Retries canceled: the delivery will not be attempted again.',
  enabled: 'Webhook enabled.',
  disabled: 'Webhook disabled: nothing more is sent to it until it is enabled again.',
  pinged: 'Test ping queued.',
  ordering:
    'Ordering changed: deliveries emitted from now on follow it; those already queued keep their line.',
};

/** The notice of a page, from `?notice=` (and `?queued=`, `?skipped=` for a recovery). */
export function notice(url: URL): SafeHtml | null {
  const code = url.searchParams.get('notice');
  if (code === null) return null;
  if (code === 'recovered') {
    const count = (name: string) => {
      const n = Number(url.searchParams.get(name) ?? '0');
      return Number.isSafeInteger(n) && n >= 0 ? n : 0;
    };
    const queued = count('queued');
    const skipped = count('skipped');
    return html`<p class="notice" role="status">Recovered: ${queued} ${queued === 1 ? 'delivery' : 'deliveries'} queued again${skipped > 0 ? `, ${skipped} skipped (webhook disabled or deleted)` : ''}.</p>`;
  }
  const text = Object.hasOwn(NOTICES, code) ? NOTICES[code] : undefined;
  return text === undefined ? null : html`<p class="notice" role="status">${text}</p>`;
}

/** The whole page around `body`. */
export function layout(
  ctx: PageContext,
  page: { title: string; current?: 'webhooks' | 'deliveries'; body: HtmlValue },
): string {
  const nav =
    ctx.scope === null
      ? null
      : html`<nav><a href="${href(ctx, [ctx.scope, 'webhooks'])}"${page.current === 'webhooks' ? html` class="current" aria-current="page"` : ''}>Webhooks</a><a href="${href(ctx, [ctx.scope, 'deliveries'])}"${page.current === 'deliveries' ? html` class="current" aria-current="page"` : ''}>Deliveries</a></nav><span class="scope">scope <b>${ctx.scope}</b></span>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${page.title} · ${ctx.title}</title>
<link rel="stylesheet" href="${ctx.base}/assets/${STYLESHEET.name}">
<script src="${ctx.base}/assets/${SCRIPT.name}" defer></script>
</head><body>
<header class="top"><a class="brand" href="${ctx.base}/">${ctx.title}</a>${nav}</header>
<main>${notice(ctx.url)}${page.body}</main>
</body></html>`.value;
}
