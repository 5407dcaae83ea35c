/**
 * hookline's own additions to every dialect: the delivery log, redelivery, test pings, bulk
 * recovery, canceling a pending delivery and a webhook's delivery ordering. A dialect adds the
 * routes with {@link extensionRoutes}, supplying how it names webhooks, pages and answers.
 */
import { ValidationError, type ValidationIssue } from '../../errors.js';
import {
  type Attempt,
  type Delivery,
  ORDERING_FAILURE_MODES,
  ORDERINGS,
  type Ordering,
  type OrderingFailureMode,
  type Webhook,
} from '../../model.js';
import type { WebhookRegistry } from '../../registry/registry.js';
import type { RecoverOptions, RecoverResult } from '../../stores/recover.js';
import type { RecoverableState } from '../../stores/types.js';
import { readJsonBody } from './body.js';
import { isoOrNull, lastParam, parsePageNumber } from './common.js';
import { type Route, type RouteContext, route } from './dialect.js';

/** Page size of the delivery and attempt lists. */
export const EXTENSION_PAGE_SIZE = 50;

/** A delivery on the wire (both dialects). `webhook` is the pretix id or the Taler `webhook_id`. */
export interface DeliveryJson {
  id: string;
  webhook: number | string | null;
  notification_id: string;
  type: string;
  event: string | null;
  state: Delivery['state'];
  attempt_count: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  /** Whether the delivery is in an ordered line (its webhook had `ordering: fifo` when it was emitted). */
  ordered: boolean;
  /** The line's key (the notification's `orderingKey`), `null` for the whole-webhook line and unordered deliveries. */
  ordering_key: string | null;
  /** A failed delivery its ordered line is paused behind, until it is redelivered. */
  pauses_line: boolean;
  created_at: string;
  updated_at: string;
  request: { url: string; method: string; headers: Record<string, string>; body: string };
}

/** An attempt on the wire (both dialects). */
export interface AttemptJson {
  id: number;
  delivery_id: string;
  attempt_number: number;
  retry: boolean;
  started_at: string;
  duration_ms: number;
  status: number;
  ok: boolean;
  error: string | null;
  response_body: string;
  response_headers: Record<string, string>;
}

/** Serializes a delivery; `webhook` is how the dialect names its webhook. */
export function toDeliveryJson(delivery: Delivery, webhook: number | string | null): DeliveryJson {
  return {
    id: delivery.id,
    webhook,
    notification_id: delivery.notificationId,
    type: delivery.type,
    event: delivery.event,
    state: delivery.state,
    attempt_count: delivery.attemptCount,
    next_attempt_at: isoOrNull(delivery.nextAttemptAt),
    last_status: delivery.lastStatus,
    last_error: delivery.lastError,
    ordered: delivery.ordered,
    ordering_key: delivery.orderingKey,
    pauses_line: delivery.pausesLine,
    created_at: delivery.createdAt.toISOString(),
    updated_at: delivery.updatedAt.toISOString(),
    request: {
      url: delivery.request.url,
      method: delivery.request.method,
      headers: { ...delivery.request.headers },
      body: delivery.request.body,
    },
  };
}

/** What a recovery answers (both dialects): the totals of `registry.recover()`. */
export interface RecoverJson {
  /** Deliveries found in the range, states and filters. */
  matched: number;
  /** Of those, the ones queued again (0 for `dry_run`). */
  queued: number;
  /** Of those, the ones left as they were because their webhook is disabled or deleted. */
  skipped: number;
}

/**
 * A webhook's delivery ordering on the wire (both dialects), what `GET` and `PUT
 * {webhook}/ordering` answer: `ordering` (`none` or `fifo`) and `on_failure` (`continue` or
 * `pause`), the webhook's `ordering` and `orderingOnFailure`.
 *
 * @example
 * ```ts
 * const body: OrderingJson = { ordering: 'fifo', on_failure: 'pause' };
 * ```
 */
export interface OrderingJson {
  ordering: Ordering;
  on_failure: OrderingFailureMode;
}

/**
 * Serializes a webhook's ordering.
 *
 * @example
 * ```ts
 * toOrderingJson(await registry.get('acme', 1)); // { ordering: 'none', on_failure: 'continue' }
 * ```
 */
export function toOrderingJson(webhook: Pick<Webhook, 'ordering' | 'orderingOnFailure'>): OrderingJson {
  return { ordering: webhook.ordering, on_failure: webhook.orderingOnFailure };
}

/**
 * Parses an ordering body (`{ ordering, on_failure? }`) into a registry patch: `ordering` is
 * required (`none` or `fifo`), `on_failure` (`continue` or `pause`) stays as it is when
 * omitted. Throws a `ValidationError` whose issues name the wire fields (`ordering`,
 * `on_failure`, or an unknown field).
 *
 * @example
 * ```ts
 * parseOrderingBody({ ordering: 'fifo', on_failure: 'pause' });
 * // { ordering: 'fifo', orderingOnFailure: 'pause' }
 * ```
 */
export function parseOrderingBody(body: Record<string, unknown>): {
  ordering: Ordering;
  orderingOnFailure?: OrderingFailureMode;
} {
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(body)) {
    if (key !== 'ordering' && key !== 'on_failure')
      issues.push({
        path: [key],
        code: 'unknown_field',
        message: `Unknown field ${JSON.stringify(key)}: expected ordering, on_failure.`,
      });
  }
  const ordering = body.ordering;
  if (!(ORDERINGS as readonly unknown[]).includes(ordering))
    issues.push({
      path: ['ordering'],
      code: 'invalid_ordering',
      message: `ordering is required: one of ${ORDERINGS.map((o) => JSON.stringify(o)).join(', ')}.`,
    });
  const onFailure = body.on_failure;
  if (onFailure !== undefined && !(ORDERING_FAILURE_MODES as readonly unknown[]).includes(onFailure))
    issues.push({
      path: ['on_failure'],
      code: 'invalid_on_failure',
      message: `on_failure must be one of ${ORDERING_FAILURE_MODES.map((o) => JSON.stringify(o)).join(', ')}.`,
    });
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    ordering: ordering as Ordering,
    ...(onFailure === undefined ? {} : { orderingOnFailure: onFailure as OrderingFailureMode }),
  };
}

/** Largest body of the recover, cancel and ordering routes: 64 KiB (a list of event types fits). */
export const EXTENSION_BODY_LIMIT = 64 * 1024;

/** An ISO 8601 date-time with a time zone, as the recover body takes `since` and `until`. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

function bodyIssue(message: string, code = 'invalid_body'): ValidationError {
  return new ValidationError([{ path: ['body'], code, message }]);
}

/** A JSON object body (an empty body is `{}`); anything else is a `ValidationError`. */
async function readObjectBody(request: Request): Promise<Record<string, unknown>> {
  const body = await readJsonBody(request, EXTENSION_BODY_LIMIT);
  switch (body.kind) {
    case 'empty':
      return {};
    case 'too_large':
      throw bodyIssue(`The request body exceeds ${EXTENSION_BODY_LIMIT} bytes.`, 'too_large');
    case 'unsupported_media_type':
      throw bodyIssue('The request body must be sent as application/json.', 'unsupported_media_type');
    case 'invalid_json':
      throw bodyIssue(`JSON parse error - ${body.message}`, 'invalid_json');
    case 'json':
      if (typeof body.value !== 'object' || body.value === null || Array.isArray(body.value))
        throw bodyIssue('The request body must be a JSON object.');
      return body.value as Record<string, unknown>;
  }
}

/**
 * Parses a recover body (`{ since, until?, types?, states?, dry_run? }`, snake_case as both
 * dialects name fields) into the options of `registry.recover()` for `scope`. Throws a
 * `ValidationError` naming the fields that are wrong; the registry checks the rest (the range,
 * the states, the types).
 *
 * @example
 * ```ts
 * parseRecoverBody({ since: '2026-12-01T00:00:00Z', dry_run: true }, 'acme');
 * // { scope: 'acme', since: new Date('2026-12-01T00:00:00Z'), dryRun: true }
 * ```
 */
export function parseRecoverBody(body: Record<string, unknown>, scope: string): RecoverOptions {
  const issues: ValidationIssue[] = [];
  const known = new Set(['since', 'until', 'types', 'states', 'dry_run']);
  for (const key of Object.keys(body)) {
    if (!known.has(key))
      issues.push({
        path: [key],
        code: 'unknown_field',
        message: `Unknown field ${JSON.stringify(key)}: expected since, until, types, states, dry_run.`,
      });
  }
  const date = (name: 'since' | 'until'): Date | undefined => {
    const value = body[name];
    if (value === undefined && name === 'until') return undefined;
    const parsed = typeof value === 'string' && DATE_TIME.test(value) ? new Date(value) : null;
    if (parsed === null || Number.isNaN(parsed.getTime())) {
      issues.push({
        path: [name],
        code: 'invalid_date',
        message: `${name} must be an ISO 8601 date-time with a time zone, e.g. "2026-12-01T00:00:00Z".`,
      });
      return undefined;
    }
    return parsed;
  };
  const since = date('since');
  const until = date('until');
  const list = (name: 'types' | 'states'): string[] | undefined => {
    const value = body[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      issues.push({ path: [name], code: 'invalid_list', message: `${name} must be a list of strings.` });
      return undefined;
    }
    return value as string[];
  };
  const types = list('types');
  const states = list('states');
  const dryRun = body.dry_run;
  if (dryRun !== undefined && dryRun !== null && typeof dryRun !== 'boolean')
    issues.push({ path: ['dry_run'], code: 'invalid_boolean', message: 'dry_run must be true or false.' });
  if (issues.length > 0 || since === undefined) throw new ValidationError(issues);
  const options: RecoverOptions = { scope, since };
  if (until !== undefined) options.until = until;
  if (types !== undefined) options.types = types;
  // Checked by registry.recover() (an unknown state is its ValidationError).
  if (states !== undefined) options.states = states as RecoverableState[];
  if (dryRun === true) options.dryRun = true;
  return options;
}

/** Serializes an attempt. */
export function toAttemptJson(attempt: Attempt): AttemptJson {
  return {
    id: attempt.id,
    delivery_id: attempt.deliveryId,
    attempt_number: attempt.attemptNumber,
    retry: attempt.retry,
    started_at: attempt.startedAt.toISOString(),
    duration_ms: attempt.durationMs,
    status: attempt.status,
    ok: attempt.ok,
    error: attempt.error,
    response_body: attempt.responseBody,
    response_headers: { ...attempt.responseHeaders },
  };
}

/** The webhook an extension path names, as {@link ExtensionRoutesOptions.webhook} finds it. */
export interface ExtensionWebhook {
  /** Its registry id. */
  id: number;
  /** How deliveries name it on the wire (`DeliveryJson.webhook`): the pretix id, the Taler key. */
  name: number | string | null;
}

/** One page of deliveries or attempts, for {@link ExtensionRoutesOptions.page}. */
export interface ExtensionPage {
  /** `deliveries` or `attempts`: what the items are. */
  kind: 'deliveries' | 'attempts';
  /** The page number asked for (1 or more). */
  page: number;
  /** How many items there are on all pages. */
  count: number;
  /** This page's items, serialized. */
  items: (DeliveryJson | AttemptJson)[];
}

/** Options of {@link extensionRoutes}. */
export interface ExtensionRoutesOptions {
  /** The registry the operations use. */
  registry: WebhookRegistry;
  /**
   * The pattern of one webhook, ending in the parameter that names it; the routes
   * `{webhookPath}/deliveries`, `/ping`, `/recover` and `/ordering` are added. Example:
   * `webhooks/:id`.
   */
  webhookPath: `${string}/:${string}`;
  /**
   * The pattern of one delivery, ending in its id parameter; `{deliveryPath}/attempts` and
   * `{deliveryPath}/redeliver` are added. Example: `webhook-deliveries/:deliveryId`.
   */
  deliveryPath: `${string}/:${string}`;
  /**
   * Finds the webhook `reference` (the path parameter) names, or answers instead (e.g. a 404
   * for an id that cannot exist). Errors it throws go to the dialect's `operationError`.
   * `context.operation` is `deliveries`, `ping`, `recover` or `ordering`.
   */
  webhook(context: RouteContext, reference: string): Promise<ExtensionWebhook | Response>;
  /** How a redelivered delivery names its webhook on the wire. */
  webhookName(context: RouteContext, delivery: Delivery): Promise<number | string | null>;
  /** The answer to a `page` query parameter that is not a page number. */
  invalidPage(context: RouteContext): Response;
  /** The answer with one page (it may refuse a page past the end). */
  page(context: RouteContext, page: ExtensionPage): Response;
  /**
   * A JSON answer in the dialect's headers: 202 with a delivery for ping and redeliver, 200
   * with a delivery for cancel, 202 (200 for a dry run) with the totals for recover, 200 with
   * the ordering for ordering.
   */
  json(context: RouteContext, status: number, body: DeliveryJson | RecoverJson | OrderingJson): Response;
}

function lastParamName(pattern: string): string {
  return pattern.slice(pattern.lastIndexOf('/:') + 2);
}

/**
 * The extension routes, for any dialect's route table: `GET {webhookPath}/deliveries`,
 * `POST {webhookPath}/ping`, `POST {webhookPath}/recover`, `GET|PUT {webhookPath}/ordering`,
 * `POST {deliveries}/recover` (the
 * whole scope; `{deliveries}` is `deliveryPath` without its last segment, e.g.
 * `webhook-deliveries`), `GET {deliveryPath}/attempts`, `POST {deliveryPath}/redeliver` and
 * `POST {deliveryPath}/cancel` (HEAD and OPTIONS where GET is served, OPTIONS everywhere).
 * Pages hold {@link EXTENSION_PAGE_SIZE} (50) items; `?page` defaults to 1 (the last value
 * counts).
 *
 * Recover takes `{ since, until?, types?, states?, dry_run? }` (ISO 8601 date-times; see
 * `registry.recover()`) and answers `{ matched, queued, skipped }`, 202 (200 for a dry run).
 * Cancel takes an optional `{ reason }` and answers the canceled delivery, 200. Ordering
 * answers `{ ordering, on_failure }`, 200; `PUT` takes `{ ordering, on_failure? }` (see
 * {@link parseOrderingBody}) and changes only those two fields of the webhook. Bodies are
 * JSON objects of at most {@link EXTENSION_BODY_LIMIT} bytes; a bad one is a
 * `ValidationError` (the dialect's 400).
 *
 * @example
 * ```ts
 * const routes = [...webhookRoutes, ...extensionRoutes({ registry, webhookPath: 'webhooks/:id', deliveryPath: 'webhook-deliveries/:deliveryId', ...answers })];
 * ```
 */
export function extensionRoutes(options: ExtensionRoutesOptions): Route[] {
  const { registry } = options;
  const webhookParam = lastParamName(options.webhookPath);
  const deliveryParam = lastParamName(options.deliveryPath);
  const param = (context: RouteContext, name: string): string => context.params[name] ?? '';
  const deliveries = options.deliveryPath.slice(0, options.deliveryPath.lastIndexOf('/'));
  const recovered = (context: RouteContext, recover: RecoverOptions, result: RecoverResult): Response =>
    options.json(context, recover.dryRun === true ? 200 : 202, {
      matched: result.matched,
      queued: result.queued,
      skipped: result.skipped,
    });
  return [
    route({
      operation: 'deliveries',
      path: `${options.webhookPath}/deliveries`,
      methods: ['GET', 'HEAD', 'OPTIONS'],
      run: async (context) => {
        const webhook = await options.webhook(context, param(context, webhookParam));
        if (webhook instanceof Response) return webhook;
        const page = parsePageNumber(lastParam(context.url, 'page'));
        if (page === null) return options.invalidPage(context);
        const result = await registry.deliveries(context.scope, webhook.id, {
          page,
          pageSize: EXTENSION_PAGE_SIZE,
        });
        const items = result.items.map((delivery) => toDeliveryJson(delivery, webhook.name));
        return options.page(context, { kind: 'deliveries', page, count: result.count, items });
      },
    }),
    route({
      operation: 'ping',
      path: `${options.webhookPath}/ping`,
      methods: ['POST', 'OPTIONS'],
      run: async (context) => {
        const webhook = await options.webhook(context, param(context, webhookParam));
        if (webhook instanceof Response) return webhook;
        const delivery = await registry.ping(context.scope, webhook.id);
        return options.json(context, 202, toDeliveryJson(delivery, webhook.name));
      },
    }),
    route({
      operation: 'recover',
      path: `${options.webhookPath}/recover`,
      methods: ['POST', 'OPTIONS'],
      run: async (context) => {
        const webhook = await options.webhook(context, param(context, webhookParam));
        if (webhook instanceof Response) return webhook;
        const recover = parseRecoverBody(await readObjectBody(context.request), context.scope);
        recover.webhookId = webhook.id;
        return recovered(context, recover, await registry.recover(recover));
      },
    }),
    route({
      operation: 'ordering',
      path: `${options.webhookPath}/ordering`,
      methods: ['GET', 'PUT', 'HEAD', 'OPTIONS'],
      run: async (context) => {
        const webhook = await options.webhook(context, param(context, webhookParam));
        if (webhook instanceof Response) return webhook;
        // The webhook first: an unknown one is 404 whatever the body says.
        const current = await registry.get(context.scope, webhook.id);
        if (context.method !== 'PUT') return options.json(context, 200, toOrderingJson(current));
        const change = parseOrderingBody(await readObjectBody(context.request));
        const updated = await registry.update(context.scope, current.id, change);
        return options.json(context, 200, toOrderingJson(updated));
      },
    }),
    route({
      operation: 'recoverScope',
      path: `${deliveries}/recover`,
      methods: ['POST', 'OPTIONS'],
      run: async (context) => {
        const recover = parseRecoverBody(await readObjectBody(context.request), context.scope);
        return recovered(context, recover, await registry.recover(recover));
      },
    }),
    route({
      operation: 'attempts',
      path: `${options.deliveryPath}/attempts`,
      methods: ['GET', 'HEAD', 'OPTIONS'],
      run: async (context) => {
        const page = parsePageNumber(lastParam(context.url, 'page'));
        if (page === null) return options.invalidPage(context);
        const result = await registry.attempts(context.scope, param(context, deliveryParam), {
          page,
          pageSize: EXTENSION_PAGE_SIZE,
        });
        const items = result.items.map(toAttemptJson);
        return options.page(context, { kind: 'attempts', page, count: result.count, items });
      },
    }),
    route({
      operation: 'redeliver',
      path: `${options.deliveryPath}/redeliver`,
      methods: ['POST', 'OPTIONS'],
      run: async (context) => {
        const delivery = await registry.redeliver(context.scope, param(context, deliveryParam));
        return options.json(
          context,
          202,
          toDeliveryJson(delivery, await options.webhookName(context, delivery)),
        );
      },
    }),
    route({
      operation: 'cancel',
      path: `${options.deliveryPath}/cancel`,
      methods: ['POST', 'OPTIONS'],
      run: async (context) => {
        const body = await readObjectBody(context.request);
        const unknown = Object.keys(body).filter((key) => key !== 'reason');
        const reason = body.reason;
        if (unknown.length > 0 || (reason !== undefined && reason !== null && typeof reason !== 'string')) {
          throw new ValidationError([
            {
              path: unknown.length > 0 ? [unknown[0] as string] : ['reason'],
              code: 'invalid_body',
              message: 'A cancel body is empty or { "reason": "<text>" }.',
            },
          ]);
        }
        const delivery = await registry.cancel(
          context.scope,
          param(context, deliveryParam),
          typeof reason === 'string' ? { reason } : {},
        );
        return options.json(
          context,
          200,
          toDeliveryJson(delivery, await options.webhookName(context, delivery)),
        );
      },
    }),
  ];
}
