/**
 * The delivery-log page's Fetch handler: routing below the base path, authorization per scope,
 * CSRF checks on every POST, security headers on every answer, and errors as pages with the
 * right status. The pages themselves live in `pages/`.
 *
 * @module
 */
import {
  ConflictError,
  HooklineError,
  NotFoundError,
  ValidationError,
  type ValidationIssue,
} from '../errors.js';
import { requestMethod } from '../http/shared/method.js';
import { belongsTo, normalizeBasePath, splitPath } from '../http/shared/paths.js';
import { markUnmatched } from '../http/shared/respond.js';
import type { AuthorizeResult, Permission } from '../http/shared/types.js';
import { ORDERING_FAILURE_MODES, ORDERINGS, type Ordering, type OrderingFailureMode } from '../model.js';
import type { WebhookRegistry } from '../registry/registry.js';
import type { RecoverableState } from '../stores/types.js';
import { ASSETS } from './assets.js';
import { CSRF_FIELD, Csrf } from './csrf.js';
import { html } from './html.js';
import type { ResolvedUiOptions } from './options.js';
import { deliveriesPage, deliveryPage } from './pages/deliveries.js';
import { errorPage } from './pages/errors.js';
import { href, layout, type PageContext } from './pages/layout.js';
import { parseInstant } from './pages/time.js';
import { webhookPage, webhooksPage } from './pages/webhooks.js';

/** The Content-Security-Policy of every answer: our own script and styles only, no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Largest form body a POST may send: 16 KiB (the forms send a few short fields). */
const MAX_FORM_BYTES = 16 * 1024;

function withHeaders(response: Response, extra: Record<string, string> = {}): Response {
  let answer = response;
  try {
    answer.headers.set('x-content-type-options', 'nosniff');
  } catch {
    // Immutable headers (the host's `Response.redirect()` from onUnauthenticated): copy it.
    answer = new Response(response.body, response);
  }
  for (const [name, value] of Object.entries({ ...SECURITY_HEADERS, ...extra })) {
    if (!answer.headers.has(name)) answer.headers.set(name, value);
  }
  return answer;
}

/** A HEAD answer: the status and headers of the GET answer, no body. */
function withoutBody(response: Response): Response {
  return new Response(null, { status: response.status, headers: response.headers });
}

function page(body: string, status = 200): Response {
  return new Response(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  });
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location, 'cache-control': 'no-store' } });
}

/** The form fields of a POST, or a status to answer with (413 too large, 415 not a form). */
async function readForm(request: Request): Promise<URLSearchParams | 413 | 415> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return 415;
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_FORM_BYTES) return 413;
  if (request.body === null) return new URLSearchParams();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_FORM_BYTES) {
      await reader.cancel().catch(() => undefined);
      return 413;
    }
    chunks.push(value);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A positive integer id from a path segment, or `null`. */
function webhookIdOf(segment: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(segment)) return null;
  const id = Number(segment);
  return Number.isSafeInteger(id) ? id : null;
}

/**
 * The ordering form's fields as a registry patch: `ordering` (`none`, `fifo`) is required,
 * `on_failure` (`continue`, `pause`) optional; anything else is a `ValidationError`.
 */
function orderingOf(form: URLSearchParams): { ordering: Ordering; orderingOnFailure?: OrderingFailureMode } {
  const ordering = form.get('ordering');
  const onFailure = form.get('on_failure');
  const issues: ValidationIssue[] = [];
  if (!(ORDERINGS as readonly (string | null)[]).includes(ordering))
    issues.push({
      path: ['ordering'],
      code: 'invalid_ordering',
      message: `Pick one of ${ORDERINGS.join(', ')}.`,
    });
  if (onFailure !== null && !(ORDERING_FAILURE_MODES as readonly string[]).includes(onFailure))
    issues.push({
      path: ['on_failure'],
      code: 'invalid_on_failure',
      message: `Pick one of ${ORDERING_FAILURE_MODES.join(', ')}.`,
    });
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    ordering: ordering as Ordering,
    ...(onFailure === null ? {} : { orderingOnFailure: onFailure as OrderingFailureMode }),
  };
}

/** What the handler does with one request once it is below the base path. */
export class UiHandler {
  readonly #registry: WebhookRegistry;
  readonly #options: ResolvedUiOptions;
  readonly #csrf: Csrf;
  readonly #base: string;

  constructor(registry: WebhookRegistry, options: ResolvedUiOptions) {
    this.#registry = registry;
    this.#options = options;
    this.#base = normalizeBasePath(options.basePath);
    this.#csrf = new Csrf(options.csrfSecret, this.#base);
  }

  /** Answers one request; never rejects. */
  async handle(request: Request): Promise<Response> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return markUnmatched(withHeaders(new Response('Not Found', { status: 404 })));
    }
    const split = splitPath(url.pathname, this.#base);
    if (split === null) {
      // Outside the base path (`/uix` is outside `/ui`): let combineHandlers try the next;
      // below it, a path that cannot be ours (`//`, bad escapes) is our 404.
      const outside = !belongsTo(url.pathname, this.#base, null);
      const response = withHeaders(
        new Response('Not Found', { status: 404, headers: { 'content-type': 'text/plain' } }),
      );
      return outside ? markUnmatched(response) : response;
    }
    const method = requestMethod(request);
    const ctx = this.#context(request, url, null, false);
    try {
      const response = await this.#route(request, url, method, split.segments, ctx);
      const extra: Record<string, string> = {};
      // Never on an asset: it is public and cached for a year, and a shared cache would hand
      // one browser's CSRF cookie to every other.
      const cacheable = split.segments[0] === 'assets';
      if (ctx.csrf.setCookie !== null && response.status < 400 && !cacheable)
        extra['set-cookie'] = ctx.csrf.setCookie;
      const answered = withHeaders(response, extra);
      return method === 'HEAD' ? withoutBody(answered) : answered;
    } catch (error) {
      const failed = withHeaders(this.#failure(error, request, ctx));
      return method === 'HEAD' ? withoutBody(failed) : failed;
    }
  }

  #context(request: Request, url: URL, scope: string | null, canWrite: boolean): PageContext {
    return {
      request,
      url,
      base: this.#base,
      scope,
      csrf: this.#csrf.state(request, this.#options.secureCookies ?? url.protocol === 'https:'),
      title: this.#options.title,
      canWrite,
      now: new Date(this.#registry.clock.now()),
    };
  }

  async #authorize(request: Request, scope: string, permission: Permission): Promise<AuthorizeResult> {
    const result = await this.#options.authorize({ request, scope, permission });
    return result === true || result === 'unauthenticated' || result === 'invalid_token' ? result : false;
  }

  async #unauthenticated(request: Request, ctx: PageContext): Promise<Response> {
    if (this.#options.onUnauthenticated) return this.#options.onUnauthenticated(request);
    return errorPage(ctx, 401, 'Sign in needed', 'This page needs you to be signed in.');
  }

  #notFound(ctx: PageContext): Response {
    return errorPage(ctx, 404, 'Not found', 'There is nothing here, or you may not see it.');
  }

  async #route(
    request: Request,
    url: URL,
    method: string,
    segments: string[],
    bare: PageContext,
  ): Promise<Response> {
    const [first, ...rest] = segments;
    if (first === 'assets' && rest.length === 1) {
      const asset = ASSETS.get(rest[0] as string);
      if (asset === undefined) return this.#notFound(bare);
      if (method !== 'GET' && method !== 'HEAD') return this.#methodNotAllowed(bare, ['GET', 'HEAD']);
      return new Response(asset.body, {
        headers: {
          'content-type': asset.contentType,
          'cache-control': 'public, max-age=31536000, immutable',
        },
      });
    }
    if (first === undefined) {
      if (method !== 'GET' && method !== 'HEAD') return this.#methodNotAllowed(bare, ['GET', 'HEAD']);
      return this.#index(request, url, bare);
    }
    const scope = first;
    const isPost = method === 'POST';
    if (!isPost && method !== 'GET' && method !== 'HEAD') {
      return this.#methodNotAllowed(bare, rest.length >= 3 ? ['POST'] : ['GET', 'HEAD']);
    }
    const read = await this.#authorize(request, scope, 'webhooks-read');
    if (read === 'unauthenticated' || read === 'invalid_token') return this.#unauthenticated(request, bare);
    // A scope the user may not read looks like one that does not exist.
    if (read !== true) return this.#notFound(bare);
    const write = await this.#authorize(request, scope, 'webhooks-write');
    const ctx: PageContext = { ...bare, scope, canWrite: write === true };
    if (isPost) return this.#action(request, ctx, scope, rest);
    const registry = this.#registry;
    const [section, id, extra] = rest;
    if (extra !== undefined)
      return rest.length === 3 ? this.#methodNotAllowed(ctx, ['POST']) : this.#notFound(ctx);
    if (section === undefined) return redirect(href(ctx, [scope, 'webhooks']));
    if (section === 'webhooks') {
      if (id === undefined) return page(await webhooksPage(ctx, registry, scope));
      const webhookId = webhookIdOf(id);
      return webhookId === null
        ? this.#notFound(ctx)
        : page(await webhookPage(ctx, registry, scope, webhookId));
    }
    if (section === 'deliveries') {
      if (id === undefined) return page(await deliveriesPage(ctx, registry, scope));
      return page(await deliveryPage(ctx, registry, scope, id));
    }
    if (section === 'recover' && id === undefined) return this.#methodNotAllowed(ctx, ['POST']);
    return this.#notFound(ctx);
  }

  #methodNotAllowed(ctx: PageContext, allow: readonly string[]): Response {
    const response = errorPage(
      ctx,
      405,
      'Method not allowed',
      `This address answers ${allow.join(', ')} only.`,
    );
    response.headers.set('allow', allow.join(', '));
    return response;
  }

  async #index(request: Request, url: URL, ctx: PageContext): Promise<Response> {
    const wanted = url.searchParams.get('scope');
    if (wanted !== null && wanted.trim() !== '') return redirect(href(ctx, [wanted.trim(), 'webhooks']));
    let scopes: string[] = [];
    if (this.#options.scopes) {
      const offered = [...new Set(await this.#options.scopes(request))];
      const readable: string[] = [];
      for (const scope of offered) {
        const result = await this.#authorize(request, scope, 'webhooks-read');
        if (result === 'unauthenticated' || result === 'invalid_token')
          return this.#unauthenticated(request, ctx);
        if (result === true) readable.push(scope);
      }
      if (readable.length === 1) return redirect(href(ctx, [readable[0] as string, 'webhooks']));
      scopes = readable;
    }
    const list =
      scopes.length > 0
        ? html`<ul class="scopes">${scopes.map((s) => html`<li><a href="${href(ctx, [s, 'webhooks'])}">${s}</a></li>`)}</ul>`
        : null;
    return page(
      layout(ctx, {
        title: 'Scopes',
        body: html`<h1>Webhook delivery log</h1>${list}<form class="open-scope card filters" method="get" action="${ctx.base}/"><label>Scope <input name="scope" required size="30"></label><button type="submit">Open</button></form>`,
      }),
    );
  }

  async #action(request: Request, ctx: PageContext, scope: string, rest: string[]): Promise<Response> {
    const form = await readForm(request);
    if (form === 413) return errorPage(ctx, 413, 'Form too large', 'The form sent more than 16 KiB.');
    if (form === 415)
      return errorPage(
        ctx,
        415,
        'Not a form',
        'Actions take an HTML form (application/x-www-form-urlencoded).',
      );
    if (!this.#csrf.verify(request, scope, form.get(CSRF_FIELD))) {
      return errorPage(
        ctx,
        403,
        'Form refused',
        'This form did not come from this page, or the page is too old (its security token does not match). Reload the page and try again.',
      );
    }
    if (!ctx.canWrite)
      return errorPage(ctx, 403, 'Not allowed', 'You may look at this scope but not change it.');
    const registry = this.#registry;
    const [section, id, verb, extra] = rest;
    if (extra !== undefined || section === undefined) return this.#notFound(ctx);
    if (section === 'recover' && id === undefined) {
      return this.#recover(ctx, scope, form, null);
    }
    // A POST to a page (`/{scope}/webhooks`, `/{scope}/deliveries/{id}`): pages are read with GET.
    if ((section === 'webhooks' || section === 'deliveries') && verb === undefined)
      return this.#methodNotAllowed(ctx, ['GET', 'HEAD']);
    if (id === undefined || verb === undefined) return this.#notFound(ctx);
    if (section === 'deliveries') {
      if (verb === 'redeliver') {
        const delivery = await registry.redeliver(scope, id);
        return redirect(href(ctx, [scope, 'deliveries', delivery.id], { notice: 'redelivered' }));
      }
      if (verb === 'cancel') {
        const delivery = await registry.cancel(scope, id, { reason: 'canceled from the delivery log' });
        return redirect(href(ctx, [scope, 'deliveries', delivery.id], { notice: 'canceled' }));
      }
      return this.#notFound(ctx);
    }
    if (section !== 'webhooks') return this.#notFound(ctx);
    const webhookId = webhookIdOf(id);
    if (webhookId === null) return this.#notFound(ctx);
    switch (verb) {
      case 'enable':
        await registry.enable(scope, webhookId);
        return redirect(href(ctx, [scope, 'webhooks', webhookId], { notice: 'enabled' }));
      case 'disable':
        await registry.disable(scope, webhookId, 'manual');
        return redirect(href(ctx, [scope, 'webhooks', webhookId], { notice: 'disabled' }));
      case 'ping': {
        const delivery = await registry.ping(scope, webhookId);
        return redirect(href(ctx, [scope, 'deliveries', delivery.id], { notice: 'pinged' }));
      }
      case 'recover':
        return this.#recover(ctx, scope, form, webhookId);
      case 'ordering':
        await registry.update(scope, webhookId, orderingOf(form));
        return redirect(href(ctx, [scope, 'webhooks', webhookId], { notice: 'ordering' }));
      default:
        return this.#notFound(ctx);
    }
  }

  async #recover(
    ctx: PageContext,
    scope: string,
    form: URLSearchParams,
    webhookId: number | null,
  ): Promise<Response> {
    const issues: string[] = [];
    const sinceText = (form.get('since') ?? '').trim();
    const untilText = (form.get('until') ?? '').trim();
    const since = parseInstant(sinceText, ctx.now);
    if (since === null)
      issues.push('since must be a UTC date and time like 2026-12-04T10:00Z, or an age like 30m, 24h, 7d.');
    const until = untilText === '' ? undefined : parseInstant(untilText, ctx.now);
    if (until === null) issues.push('until must be empty (now), a UTC date and time, or an age like 1h.');
    const states = form.getAll('states');
    if (states.length === 0) issues.push('Pick at least one state: failed or canceled.');
    if (issues.length > 0 || since === null || until === null) {
      return errorPage(ctx, 400, 'Cannot recover', 'The form has problems:', issues);
    }
    const result = await this.#registry.recover({
      scope,
      since,
      ...(until === undefined ? {} : { until }),
      ...(webhookId === null ? {} : { webhookId }),
      states: states as RecoverableState[],
    });
    const back = webhookId === null ? [scope, 'webhooks'] : [scope, 'webhooks', webhookId];
    return redirect(href(ctx, back, { notice: 'recovered', queued: result.queued, skipped: result.skipped }));
  }

  #failure(error: unknown, request: Request, ctx: PageContext): Response {
    if (error instanceof ValidationError) {
      return errorPage(
        ctx,
        400,
        'Bad request',
        'Some values are not valid:',
        error.issues.map((issue) =>
          issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
        ),
      );
    }
    if (error instanceof NotFoundError) return this.#notFound(ctx);
    if (error instanceof ConflictError) return errorPage(ctx, 409, 'Not possible now', error.message);
    if (error instanceof HooklineError && error.code === 'store_unsupported') {
      this.#report(error, request);
      return errorPage(
        ctx,
        501,
        'Not supported by this store',
        'The store behind this page cannot answer this; the server log says more.',
      );
    }
    this.#report(error, request);
    return errorPage(
      ctx,
      500,
      'Something went wrong',
      'The server could not show this page. The error was logged.',
    );
  }

  #report(error: unknown, request: Request): void {
    try {
      this.#options.onError(error, request);
    } catch {
      // onError itself failed; the page is answered anyway.
    }
  }
}
