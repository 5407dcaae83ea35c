/**
 * Shared fixtures of the delivery-log UI's in-process tests: a registry over the memory store
 * with a fake clock and a capture transport, the UI mounted at `/ui`, a tiny "browser" that
 * keeps the CSRF cookie and submits the forms of the pages it got, and a strict little tag
 * scanner for the markup checks (no HTML parser is a dependency of the project).
 */
import { expect } from 'vitest';
import type { Authorize, FetchHandler } from '../../src/http/index.js';
import { memoryStore, WebhookRegistry, type WebhookRegistryOptions } from '../../src/index.js';
import { type CaptureResponse, captureTransport, createFakeClock } from '../../src/testing/index.js';
import { type DeliveryLogUiOptions, deliveryLogUi } from '../../src/ui/index.js';

export const T0 = Date.parse('2026-03-10T12:00:00.000Z');
export const HOUR = 3_600_000;
export const ORIGIN = 'https://admin.example';
export const BASE = '/ui';
export const SECRET = 'a-csrf-secret-of-at-least-32-characters!';

/**
 * Users of the tests, from the `x-user` header: the scopes they may read and whether they may
 * write there. No header: `'unauthenticated'`; `expired`: `'invalid_token'`; `boom`: throws.
 */
export const USERS: Record<string, { read: string[]; write: string[] }> = {
  alice: { read: ['acme', 'other'], write: ['acme', 'other'] },
  reader: { read: ['acme'], write: [] },
  bob: { read: ['other'], write: ['other'] },
  'acme-only': { read: ['acme'], write: ['acme'] },
};

/** The message `authorize` throws for the user `boom` (it must never reach a page). */
export const AUTHORIZE_FAILURE = 'database password is hunter2';

export const authorize: Authorize = ({ request, scope, permission }) => {
  const user = request.headers.get('x-user');
  if (user === null) return 'unauthenticated';
  if (user === 'expired') return 'invalid_token';
  if (user === 'boom') throw new Error(AUTHORIZE_FAILURE);
  const grant = USERS[user];
  if (grant === undefined) return 'unauthenticated';
  return (permission === 'webhooks-read' ? grant.read : grant.write).includes(scope);
};

export interface SetupOptions {
  registry?: Partial<WebhookRegistryOptions>;
  ui?: Partial<DeliveryLogUiOptions>;
  /** The receivers' answer (default 200). */
  respond?: (url: string) => CaptureResponse;
}

/** A registry (memory store, fake clock at {@link T0}, one retry after a minute), a worker and the UI. */
export function setup(options: SetupOptions = {}) {
  const clock = createFakeClock({ now: T0 });
  const registry = new WebhookRegistry({
    store: memoryStore(),
    clock,
    retryPolicy: { name: 'test', delaysMs: [60_000] },
    ...options.registry,
  });
  const transport = captureTransport({ respond: (request) => options.respond?.(request.url) ?? 200 });
  const worker = registry.worker({
    transport,
    random: () => 0.5,
    concurrency: 8,
    perWebhookConcurrency: 8,
    autoDisable: false,
  });
  const errors: unknown[] = [];
  const ui = deliveryLogUi(registry, {
    authorize,
    basePath: BASE,
    csrfSecret: SECRET,
    onError: (error) => errors.push(error),
    ...options.ui,
  });
  return { clock, registry, transport, worker, ui, errors };
}

export type Setup = ReturnType<typeof setup>;

/** An answer of the UI with its body read. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  response: Response;
}

export async function answer(response: Response): Promise<Answer> {
  return { status: response.status, headers: response.headers, text: await response.text(), response };
}

/** Form fields: repeated names as arrays. */
export type Fields = Record<string, string | readonly string[]>;

export function formBody(fields: Fields): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const v of typeof value === 'string' ? [value] : value) params.append(name, v);
  }
  return params.toString();
}

/**
 * A browser in miniature: sends `x-user`, keeps the `hookline_csrf` cookie the pages set, and
 * submits the forms of a page it fetched (with the page's hidden `_csrf`).
 */
export class Browser {
  cookie: string | null = null;

  constructor(
    readonly handler: FetchHandler,
    readonly user: string | null = 'alice',
  ) {}

  headers(extra: Record<string, string> = {}): Headers {
    const headers = new Headers(extra);
    if (this.user !== null && !headers.has('x-user')) headers.set('x-user', this.user);
    if (this.cookie !== null && !headers.has('cookie')) headers.set('cookie', this.cookie);
    return headers;
  }

  #remember(response: Response): void {
    const set = response.headers.get('set-cookie');
    const match = set === null ? null : /^(hookline_csrf=[^;]+)/.exec(set);
    if (match?.[1]) this.cookie = match[1];
  }

  async request(method: string, path: string, init: RequestInit = {}): Promise<Answer> {
    const headers = this.headers(Object.fromEntries(new Headers(init.headers).entries()));
    const response = await this.handler(new Request(`${ORIGIN}${path}`, { ...init, method, headers }));
    this.#remember(response);
    return answer(response);
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.request('GET', path, { headers });
  }

  post(path: string, fields: Fields, headers: Record<string, string> = {}): Promise<Answer> {
    return this.request('POST', path, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: formBody(fields),
    });
  }

  /**
   * GETs `page`, finds the POST form whose action is `action`, and sends it with its hidden
   * fields plus `fields`.
   */
  async submit(page: string, action: string, fields: Fields = {}): Promise<Answer> {
    const got = await this.get(page);
    expect(got.status, `GET ${page}`).toBe(200);
    const form = findForm(got.text, action);
    expect(form, `a form posting to ${action} on ${page}`).not.toBeNull();
    return this.post(action, { ...(form as FormFound).hidden, ...fields });
  }
}

/** One tag of a page: name (lower case) and attributes (decoded entity-free values as written). */
export interface Tag {
  name: string;
  attributes: Map<string, string>;
  /** Where it starts in the page. */
  index: number;
}

const TAG =
  /<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'<>/=]+(?:\s*=\s*(?:"[^"<]*"|'[^'<]*'|[^\s"'<>=`]+))?)*)\s*\/?>/y;
const ATTRIBUTE = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>=`]+)))?/g;
const CLOSE = /<\/([a-zA-Z][a-zA-Z0-9-]*)\s*>/y;
const DOCTYPE = /<!doctype html>/iy;

/**
 * The tags of a page. Every `<` must open a well-formed tag, a closing tag or the doctype, so
 * text that was not escaped (a `<script>` from a response body) would either show up here as a
 * tag or fail the scan.
 */
export function tags(page: string): Tag[] {
  const found: Tag[] = [];
  let at = page.indexOf('<');
  while (at >= 0) {
    TAG.lastIndex = at;
    CLOSE.lastIndex = at;
    DOCTYPE.lastIndex = at;
    const open = TAG.exec(page);
    let end: number;
    if (open) {
      const attributes = new Map<string, string>();
      for (const a of (open[2] ?? '').matchAll(ATTRIBUTE)) {
        attributes.set((a[1] as string).toLowerCase(), a[2] ?? a[3] ?? a[4] ?? '');
      }
      found.push({ name: (open[1] as string).toLowerCase(), attributes, index: at });
      end = TAG.lastIndex;
    } else if (CLOSE.exec(page)) end = CLOSE.lastIndex;
    else if (DOCTYPE.exec(page)) end = DOCTYPE.lastIndex;
    else throw new Error(`a "<" that opens no tag at ${at}: ${JSON.stringify(page.slice(at, at + 60))}`);
    at = page.indexOf('<', end);
  }
  return found;
}

/** HTML entities back to text (the few the UI writes). */
export function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

export interface FormFound {
  method: string;
  className: string;
  /** The hidden inputs' values by name. */
  hidden: Record<string, string>;
  /** The markup from `<form` to `</form>`. */
  markup: string;
}

/** The forms of a page. */
export function forms(page: string): (FormFound & { action: string })[] {
  const out: (FormFound & { action: string })[] = [];
  for (const match of page.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)) {
    const markup = match[0];
    const [form, ...inner] = tags(markup);
    const hidden: Record<string, string> = {};
    for (const tag of inner) {
      if (tag.name === 'input' && tag.attributes.get('type') === 'hidden') {
        hidden[tag.attributes.get('name') ?? ''] = unescapeHtml(tag.attributes.get('value') ?? '');
      }
    }
    out.push({
      action: unescapeHtml(form?.attributes.get('action') ?? ''),
      method: (form?.attributes.get('method') ?? 'get').toLowerCase(),
      className: form?.attributes.get('class') ?? '',
      hidden,
      markup,
    });
  }
  return out;
}

/** The form of a page posting to `action`, or `null`. */
export function findForm(page: string, action: string): FormFound | null {
  return forms(page).find((f) => f.action === action && f.method === 'post') ?? null;
}

/** The `data-*-id` values of the rows of a page's table, in order. */
export function rowIds(page: string, attribute: 'data-delivery-id' | 'data-webhook-id'): string[] {
  return tags(page)
    .filter((t) => t.name === 'tr' && t.attributes.has(attribute))
    .map((t) => unescapeHtml(t.attributes.get(attribute) ?? ''));
}

/** The `href` of the first `<a>` with `rel`, or `null`. */
export function linkWithRel(page: string, rel: string): string | null {
  const a = tags(page).find((t) => t.name === 'a' && t.attributes.get('rel') === rel);
  return a === undefined ? null : unescapeHtml(a.attributes.get('href') ?? '');
}

/** The text of the page's `role="status"` notice, or `null`. */
export function noticeText(page: string): string | null {
  const match = /<p class="notice" role="status">([\s\S]*?)<\/p>/.exec(page);
  return match ? unescapeHtml(match[1] as string) : null;
}

/** The `Location` of a 303, as a path with its query. */
export function location(result: Answer): string {
  expect(result.status, result.text.slice(0, 400)).toBe(303);
  const value = result.headers.get('location') ?? '';
  const url = new URL(value, ORIGIN);
  return `${url.pathname}${url.search}`;
}
