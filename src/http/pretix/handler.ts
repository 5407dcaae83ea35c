/**
 * The pretix webhook REST API (organizer-scoped) as a Fetch handler.
 */
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { checkOptionalBoolean } from '../../options.js';
import type { WebhookRegistry } from '../../registry/registry.js';
import { readJsonBody } from '../shared/body.js';
import { isSafeMethod, lastParam, parsePageNumber, resolveOptions } from '../shared/common.js';
import { createDialectHandler, prefixRoutes, type RouteContext, route } from '../shared/dialect.js';
import { extensionRoutes } from '../shared/extensions.js';
import { emptyResponse, jsonResponse } from '../shared/respond.js';
import type { FetchHandler, HandlerOptions } from '../shared/types.js';
import { pretixOpenApi } from './openapi.js';
import { parsePretixBody, pretixErrorsFromIssues, toPretixWebhook } from './wire.js';

/** Options of {@link pretixHandler}. */
export interface PretixHandlerOptions extends HandlerOptions {
  /** Where the API lives, e.g. `/api/v1` (pretix's own prefix). Default `/api/v1`. */
  basePath?: string;
  /**
   * pretix requires the organizer's write permission for every method. With `true`, reads
   * (GET, HEAD, OPTIONS) ask `authorize` for `webhooks-read` instead. Default `false`.
   */
  readWriteSplit?: boolean;
}

/** pretix's (and Django REST framework's) page size: 50. Example: `Math.ceil(count / PRETIX_PAGE_SIZE)` pages. */
export const PRETIX_PAGE_SIZE = 50;

const NOT_FOUND = { detail: 'Not found.' };

/** A webhook id from the path: digits only (leading zeros allowed, as `int()` does). */
function parseId(raw: string): number | null {
  if (!/^\d{1,16}$/.test(raw)) return null;
  const id = Number(raw);
  return Number.isSafeInteger(id) && id >= 1 ? id : null;
}

/** Python's `urllib.parse.quote_plus`. */
function quotePlus(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * A pagination link as Django REST framework builds it: the request URL with `page` replaced
 * (or removed for page 1), the query re-encoded with its keys sorted.
 *
 * @example
 * ```ts
 * pageLink(new URL('https://x.example/api/v1/organizers/o/webhooks/?x=1&page=3'), 2);
 * // 'https://x.example/api/v1/organizers/o/webhooks/?page=2&x=1'
 * ```
 */
export function pageLink(url: URL, page: number): string {
  const groups = new Map<string, string[]>();
  for (const [key, value] of url.searchParams) {
    const list = groups.get(key);
    if (list) list.push(value);
    else groups.set(key, [value]);
  }
  if (page === 1) groups.delete('page');
  else groups.set('page', [String(page)]);
  const query = [...groups.keys()]
    .sort()
    .flatMap((key) => (groups.get(key) ?? []).map((value) => `${quotePlus(key)}=${quotePlus(value)}`))
    .join('&');
  return `${url.origin}${url.pathname}${query === '' ? '' : `?${query}`}`;
}

interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

function page<T>(url: URL, count: number, current: number, results: T[]): Page<T> {
  const pages = Math.max(1, Math.ceil(count / PRETIX_PAGE_SIZE));
  return {
    count,
    next: current < pages ? pageLink(url, current + 1) : null,
    previous: current > 1 ? pageLink(url, current - 1) : null,
    results,
  };
}

function forbidden({ allow }: RouteContext): Response {
  return json(403, { detail: 'You do not have permission to perform this action.' }, allow);
}

function invalidPage(): Response {
  return json(404, { detail: 'Invalid page.' });
}

function json(status: number, body: unknown, allow?: readonly string[]): Response {
  return jsonResponse(status, body, allow ? { vary: 'Accept', allow: allow.join(', ') } : { vary: 'Accept' });
}

function parseEnabled(raw: string | null): boolean | undefined {
  switch (raw?.toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      return undefined;
  }
}

/**
 * The pretix webhook REST API as a Fetch handler: `GET|POST {basePath}/organizers/{organizer}/webhooks/`
 * and `GET|PUT|PATCH|DELETE .../webhooks/{id}/`, with pretix's status codes and bodies (see
 * `docs/http.md`). Paths are accepted with or without the trailing slash. Requests outside
 * `basePath` get a 404 marked for {@link isUnmatched}. hookline extensions:
 * `GET .../webhooks/{id}/deliveries/`, `POST .../webhooks/{id}/ping/`, `POST .../webhooks/{id}/recover/`,
 * `GET|PUT .../webhooks/{id}/ordering/` (the delivery ordering, which the webhook resource does
 * not carry), `POST .../webhook-deliveries/recover/`,
 * `GET .../webhook-deliveries/{deliveryId}/attempts/`, `POST .../webhook-deliveries/{deliveryId}/redeliver/`
 * and `POST .../webhook-deliveries/{deliveryId}/cancel/`.
 *
 * Defaults: `basePath` `/api/v1`, `readWriteSplit` false, `maxBodyBytes` 1 MiB, every scope exists.
 * A missing `authorize` or an option of the wrong type throws a `HooklineError` with code
 * `invalid_option` when the handler is built.
 *
 * @example
 * ```ts
 * const registry = new WebhookRegistry({ catalog: pretixCatalog });
 * const handler = pretixHandler(registry, {
 *   authorize: ({ request, scope }) => tokenAllows(request.headers.get('authorization'), scope),
 * });
 * const response = await handler(new Request('https://example.com/api/v1/organizers/bigevents/webhooks/'));
 * ```
 */
export function pretixHandler(registry: WebhookRegistry, options: PretixHandlerOptions): FetchHandler {
  const where = 'pretixHandler()';
  const resolved = resolveOptions(options, where, '/api/v1', registry?.logger);
  checkOptionalBoolean(where, 'readWriteSplit', options.readWriteSplit);
  const basePath = resolved.basePath;
  const readWriteSplit = options.readWriteSplit ?? false;

  async function list({ url, scope, allow }: RouteContext): Promise<Response> {
    const enabled = parseEnabled(lastParam(url, 'enabled'));
    const filter = enabled === undefined ? {} : { enabled };
    const raw = lastParam(url, 'page');
    let current: number | null;
    if (raw === 'last') {
      const { count } = await registry.list(scope, { ...filter, page: 1, pageSize: 1 });
      current = Math.max(1, Math.ceil(count / PRETIX_PAGE_SIZE));
    } else {
      current = parsePageNumber(raw);
    }
    if (current === null) return invalidPage();
    const { count, items } = await registry.list(scope, {
      ...filter,
      page: current,
      pageSize: PRETIX_PAGE_SIZE,
    });
    if (current > Math.max(1, Math.ceil(count / PRETIX_PAGE_SIZE))) return invalidPage();
    return json(200, page(url, count, current, items.map(toPretixWebhook)), allow);
  }

  async function readBody(request: Request): Promise<{ value: unknown } | Response> {
    const body = await readJsonBody(request, resolved.maxBodyBytes);
    switch (body.kind) {
      case 'json':
        return { value: body.value };
      case 'empty':
        return { value: {} };
      case 'too_large':
        return json(413, { detail: `Request body exceeds the limit of ${resolved.maxBodyBytes} bytes.` });
      case 'unsupported_media_type':
        return json(415, { detail: `Unsupported media type "${body.mediaType}" in request.` });
      case 'invalid_json':
        return json(400, { detail: `JSON parse error - ${body.message}` });
    }
  }

  async function create({ request, scope, allow }: RouteContext): Promise<Response> {
    const body = await readBody(request);
    if (body instanceof Response) return body;
    const parsed = parsePretixBody(body.value, 'create', registry.catalog);
    if (!parsed.ok) return json(400, parsed.errors, allow);
    const { url = '', eventTypes = [], ...rest } = parsed.patch;
    const webhook = await registry.create(scope, { ...rest, url, eventTypes });
    return json(201, toPretixWebhook(webhook), allow);
  }

  async function detail({ request, scope, method, allow }: RouteContext, rawId: string): Promise<Response> {
    const id = parseId(rawId);
    if (id === null) return json(404, NOT_FOUND, allow);
    if (method === 'DELETE') {
      await registry.disable(scope, id);
      return emptyResponse(204, { vary: 'Accept', allow: allow.join(', ') });
    }
    const current = await registry.get(scope, id);
    if (method === 'GET' || method === 'HEAD') return json(200, toPretixWebhook(current), allow);
    const body = await readBody(request);
    if (body instanceof Response) return body;
    const parsed = parsePretixBody(body.value, method === 'PUT' ? 'replace' : 'update', registry.catalog);
    if (!parsed.ok) return json(400, parsed.errors, allow);
    return json(200, toPretixWebhook(await registry.update(scope, id, parsed.patch)), allow);
  }

  const routes = prefixRoutes('organizers/:scope', [
    route({
      operation: 'list',
      path: 'webhooks',
      methods: ['GET', 'POST', 'HEAD', 'OPTIONS'],
      run: (context) => (context.method === 'POST' ? create(context) : list(context)),
    }),
    route({
      operation: 'detail',
      path: 'webhooks/:id',
      methods: ['GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
      run: (context) => detail(context, context.params.id),
    }),
    ...extensionRoutes({
      registry,
      webhookPath: 'webhooks/:id',
      deliveryPath: 'webhook-deliveries/:deliveryId',
      async webhook({ scope, operation, allow }, rawId) {
        const id = parseId(rawId);
        if (id === null) return json(404, NOT_FOUND, allow);
        // The delivery list checks the webhook first (ping's own lookup does the same).
        if (operation === 'deliveries') await registry.get(scope, id);
        return { id, name: id };
      },
      webhookName: async (_context, delivery) => delivery.webhookId,
      invalidPage: () => invalidPage(),
      page({ url, allow }, { page: current, count, items }) {
        if (current > 1 && items.length === 0) return invalidPage();
        return json(200, page(url, count, current, items), allow);
      },
      json: ({ allow }, status, body) => json(status, body, allow),
    }),
  ]);

  return createDialectHandler({
    options: resolved,
    routes,
    trailingSlash: 'optional',
    checkAccess: 'before-method',
    checkScope: 'after-authorize',
    permission: (method) => (readWriteSplit && isSafeMethod(method) ? 'webhooks-read' : 'webhooks-write'),
    openApi: { methods: ['GET', 'HEAD', 'OPTIONS'], build: () => pretixOpenApi({ basePath }) },
    responses: {
      notFound: () => json(404, NOT_FOUND),
      methodNotAllowed: ({ method, allow }) =>
        json(405, { detail: `Method "${method}" not allowed.` }, allow),
      options: ({ operation, allow }) =>
        json(
          200,
          {
            name: operation === 'list' ? 'Webhook List' : 'Webhook Instance',
            description: '',
            renders: ['application/json'],
            parses: ['application/json'],
          },
          allow,
        ),
      denied(context, decision) {
        if (decision === 'unauthenticated' || decision === 'invalid_token') {
          const detail =
            decision === 'invalid_token' ? 'Invalid token.' : 'Authentication credentials were not provided.';
          return jsonResponse(401, { detail }, { vary: 'Accept', 'www-authenticate': 'Token' });
        }
        return forbidden(context);
      },
      unknownScope: forbidden,
      operationError(error, { allow }) {
        if (error instanceof NotFoundError) return json(404, NOT_FOUND, allow);
        if (error instanceof ValidationError) {
          // A delivery id in the path that cannot exist (too long, ...) is simply not found.
          if (error.issues.every((issue) => issue.path[0] === 'deliveryId'))
            return json(404, NOT_FOUND, allow);
          return json(400, pretixErrorsFromIssues(error.issues), allow);
        }
        if (error instanceof ConflictError) return json(409, { detail: error.message }, allow);
        return undefined;
      },
      internalError: () => json(500, { detail: 'A server error occurred.' }),
      document: (document) => json(200, document),
    },
  });
}
