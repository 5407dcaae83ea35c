/**
 * The GNU Taler merchant webhook API (instance-scoped) as a Fetch handler.
 */
import { ConflictError, invalidOption, NotFoundError, ValidationError } from '../../errors.js';
import { MAX_NAME_LENGTH, scopeSchema, type Webhook } from '../../model.js';
import type { WebhookRegistry } from '../../registry/registry.js';
import { readJsonBody } from '../shared/body.js';
import { isSafeMethod, report, resolveOptions } from '../shared/common.js';
import { createDialectHandler, prefixRoutes, type RouteContext, route } from '../shared/dialect.js';
import { extensionRoutes } from '../shared/extensions.js';
import { emptyResponse, jsonResponse } from '../shared/respond.js';
import type { FetchHandler, HandlerOptions } from '../shared/types.js';
import { talerOpenApi } from './openapi.js';
import {
  parseTalerBody,
  TALER_ERRORS,
  type TalerErrorName,
  type TalerWebhookBody,
  talerError,
  talerFieldOf,
  toTalerWebhook,
} from './wire.js';

/** Options of {@link talerHandler}. */
export interface TalerHandlerOptions extends HandlerOptions {
  /** Prefix before `/private/...` and `/instances/...`. Default `''`. */
  basePath?: string;
  /** The scope served at `/private/webhooks` (Taler's default instance). Default `default`. */
  defaultScope?: string;
}

/** Issue paths naming an id taken from the request path (a webhook key or a delivery id). */
function isPathId(field: string | number | undefined): boolean {
  return field === 'key' || field === 'deliveryId';
}

function fail(name: TalerErrorName, extra: { detail?: string; field?: string } = {}, headers = {}): Response {
  return jsonResponse(TALER_ERRORS[name].status, talerError(name, extra), headers);
}

function sameContent(webhook: Webhook, body: TalerWebhookBody): boolean {
  return (
    webhook.eventTypes.length === 1 &&
    webhook.eventTypes[0] === body.event_type &&
    webhook.url === body.url &&
    webhook.method === body.http_method.toUpperCase() &&
    webhook.headerTemplate === body.header_template &&
    webhook.bodyTemplate === body.body_template
  );
}

/**
 * The GNU Taler merchant webhook API as a Fetch handler: `GET|POST {basePath}/private/webhooks`,
 * `GET|PATCH|DELETE {basePath}/private/webhooks/{webhook_id}`, and the same below
 * `/instances/{instance}`, with Taler's status codes and `{code, hint, detail?}` errors (see
 * `docs/http.md`). `webhook_id` is the registry `key`. Requests whose path is not below
 * `basePath` or does not start with `/private` or `/instances` get a 404 marked for
 * {@link isUnmatched}. hookline extensions: `GET .../webhooks/{id}/deliveries`,
 * `POST .../webhooks/{id}/ping`, `POST .../webhooks/{id}/recover`, `GET|PUT
 * .../webhooks/{id}/ordering` (the delivery ordering, which the webhook resource does not
 * carry), `POST .../webhook-deliveries/recover`, `GET .../webhook-deliveries/{deliveryId}/attempts`,
 * `POST .../webhook-deliveries/{deliveryId}/redeliver` and `POST .../webhook-deliveries/{deliveryId}/cancel`.
 *
 * Authorization: GET needs `webhooks-read`, the rest `webhooks-write`; `false`,
 * `'unauthenticated'` and `'invalid_token'` all answer 401 code 2015 (Taler has no 403 here).
 *
 * Defaults: `basePath` `''`, `defaultScope` `default`, `maxBodyBytes` 1 MiB, every scope exists.
 * A missing `authorize` or an option of the wrong type (or a `defaultScope` that is not a valid
 * scope name) throws a `HooklineError` with code `invalid_option` when the handler is built.
 *
 * @example
 * ```ts
 * const registry = new WebhookRegistry({ catalog: talerCatalog });
 * const handler = talerHandler(registry, { authorize: ({ request }) => bearerOk(request) || 'unauthenticated' });
 * await handler(new Request('https://merchant.example/private/webhooks', { headers: { authorization: 'Bearer secret-token:x' } }));
 * ```
 */
export function talerHandler(registry: WebhookRegistry, options: TalerHandlerOptions): FetchHandler {
  const where = 'talerHandler()';
  const resolved = resolveOptions(options, where, '', registry?.logger);
  if (options.defaultScope !== undefined && !scopeSchema.safeParse(options.defaultScope).success) {
    // The rules are scopeSchema's (model.ts); this only describes them.
    throw invalidOption(
      where,
      'defaultScope',
      `a scope name (1 to ${MAX_NAME_LENGTH} characters, no control characters)`,
      options.defaultScope,
    );
  }
  const basePath = resolved.basePath;
  const defaultScope = options.defaultScope ?? 'default';

  async function readBody(request: Request): Promise<{ value: unknown } | Response> {
    const body = await readJsonBody(request, resolved.maxBodyBytes);
    switch (body.kind) {
      case 'json':
        return { value: body.value };
      case 'too_large':
        return fail('GENERIC_UPLOAD_EXCEEDS_LIMIT');
      case 'unsupported_media_type':
        return jsonResponse(
          415,
          talerError('GENERIC_JSON_INVALID', {
            detail: 'The request body must be sent as application/json.',
          }),
        );
      case 'empty':
      case 'invalid_json':
        return fail('GENERIC_JSON_INVALID');
    }
  }

  function validationFailure(error: ValidationError): Response {
    const field = error.issues.map((issue) => talerFieldOf(issue.path)).find((name) => name !== undefined);
    return fail('GENERIC_PARAMETER_MALFORMED', { detail: field ?? error.issues[0]?.message ?? 'request' });
  }

  async function post(request: Request, scope: string): Promise<Response> {
    const body = await readBody(request);
    if (body instanceof Response) return body;
    const parsed = parseTalerBody(body.value, true);
    if (!parsed.ok) return fail('GENERIC_JSON_INVALID', { field: parsed.field });
    const value = parsed.value;
    const key = value.webhook_id ?? '';
    try {
      await registry.create(scope, {
        key,
        eventTypes: [value.event_type],
        url: value.url,
        method: value.http_method,
        headerTemplate: value.header_template,
        bodyTemplate: value.body_template,
      });
      return emptyResponse(204);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
    const existing = await registry.getByKey(scope, key);
    if (sameContent(existing, value)) return emptyResponse(204);
    return fail('MERCHANT_PRIVATE_POST_WEBHOOKS_CONFLICT_WEBHOOK_EXISTS', { detail: key });
  }

  async function patch(request: Request, scope: string, key: string): Promise<Response> {
    const body = await readBody(request);
    if (body instanceof Response) return body;
    const parsed = parseTalerBody(body.value, false);
    if (!parsed.ok) return fail('GENERIC_JSON_INVALID', { field: parsed.field });
    const existing = await registry.getByKey(scope, key);
    await registry.update(scope, existing.id, {
      eventTypes: [parsed.value.event_type],
      url: parsed.value.url,
      method: parsed.value.http_method,
      headerTemplate: parsed.value.header_template,
      bodyTemplate: parsed.value.body_template,
    });
    return emptyResponse(204);
  }

  async function listAll(scope: string): Promise<Response> {
    const webhooks: { webhook_id: string; event_type: string }[] = [];
    for (let page = 1; ; page += 1) {
      const { items } = await registry.list(scope, { page, pageSize: 1000 });
      for (const webhook of items) {
        if (webhook.key !== null)
          webhooks.push({ webhook_id: webhook.key, event_type: webhook.eventTypes[0] ?? '' });
      }
      if (items.length < 1000) break;
    }
    return jsonResponse(200, { webhooks });
  }

  async function keyOf(scope: string, webhookId: number): Promise<string | null> {
    try {
      return (await registry.get(scope, webhookId)).key;
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  const webhookRoutes = [
    route({
      operation: 'collection',
      path: 'webhooks',
      methods: ['GET', 'POST', 'HEAD', 'OPTIONS'],
      run: ({ request, scope, method }) => (method === 'POST' ? post(request, scope) : listAll(scope)),
    }),
    route({
      operation: 'one',
      path: 'webhooks/:key',
      methods: ['GET', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
      run: async ({ request, scope, method, params }) => {
        if (method === 'PATCH') return patch(request, scope, params.key);
        const webhook = await registry.getByKey(scope, params.key);
        if (method === 'DELETE') {
          await registry.remove(scope, webhook.id);
          return emptyResponse(204);
        }
        return jsonResponse(200, toTalerWebhook(webhook));
      },
    }),
    ...extensionRoutes({
      registry,
      webhookPath: 'webhooks/:key',
      deliveryPath: 'webhook-deliveries/:deliveryId',
      async webhook({ scope }, key) {
        const webhook = await registry.getByKey(scope, key);
        return { id: webhook.id, name: webhook.key };
      },
      webhookName: ({ scope }, delivery) => keyOf(scope, delivery.webhookId),
      invalidPage: () => fail('GENERIC_PARAMETER_MALFORMED', { detail: 'page' }),
      page: (_context, { kind, count, items }) => jsonResponse(200, { count, [kind]: items }),
      json: (_context, status, body) => jsonResponse(status, body),
    }),
  ];

  function operationError(error: unknown, { request, method, operation, params }: RouteContext): Response {
    if (error instanceof NotFoundError) {
      if (error.resource === 'delivery')
        return fail('MERCHANT_GENERIC_WEBHOOK_UNKNOWN', { detail: String(error.id) });
      return fail('MERCHANT_GENERIC_WEBHOOK_UNKNOWN', { detail: params.key ?? String(error.id) });
    }
    if (error instanceof ValidationError) {
      // An id in the path that cannot exist (too long, ...) is simply unknown; a bad
      // `webhook_id` in a POST body is a malformed parameter.
      if (operation !== 'collection' && error.issues.some((issue) => isPathId(issue.path[0]))) {
        return fail('MERCHANT_GENERIC_WEBHOOK_UNKNOWN', { detail: params.key ?? params.deliveryId ?? '' });
      }
      return validationFailure(error);
    }
    if (error instanceof ConflictError) {
      // Only the extensions get here (a pending delivery cannot be redelivered yet).
      return jsonResponse(409, talerError('GENERIC_PARAMETER_MALFORMED', { detail: error.message }));
    }
    report(resolved, error, request);
    return fail(isSafeMethod(method) ? 'GENERIC_DB_FETCH_FAILED' : 'GENERIC_DB_STORE_FAILED');
  }

  return createDialectHandler({
    options: resolved,
    routes: [
      ...prefixRoutes('private', webhookRoutes),
      ...prefixRoutes('instances/:scope/private', webhookRoutes),
    ],
    defaultScope,
    trailingSlash: 'forbidden',
    checkAccess: 'after-method',
    checkScope: 'before-authorize',
    openApi: { methods: ['GET', 'HEAD'], build: () => talerOpenApi({ basePath, defaultScope }) },
    responses: {
      notFound: (pathname) => fail('GENERIC_ENDPOINT_UNKNOWN', pathname === null ? {} : { detail: pathname }),
      methodNotAllowed: ({ allow }) => fail('GENERIC_METHOD_INVALID', {}, { allow: allow.join(', ') }),
      options: ({ allow }) => emptyResponse(204, { allow: allow.join(', ') }),
      denied: () => fail('MERCHANT_GENERIC_UNAUTHORIZED', { detail: "Check 'Authorization' header" }),
      unknownScope: ({ scope }) => fail('MERCHANT_GENERIC_INSTANCE_UNKNOWN', { detail: scope }),
      operationError,
      internalError: () => fail('GENERIC_INTERNAL_INVARIANT_FAILURE'),
      document: (document) => jsonResponse(200, document),
    },
  });
}
