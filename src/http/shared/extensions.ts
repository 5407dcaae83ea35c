/**
 * hookline's own additions to every dialect: the delivery log, redelivery and test pings. A
 * dialect adds the four routes with {@link extensionRoutes}, supplying how it names webhooks,
 * pages and answers.
 */
import type { Attempt, Delivery } from '../../model.js';
import type { WebhookRegistry } from '../../registry/registry.js';
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
   * `{webhookPath}/deliveries` and `{webhookPath}/ping` are added. Example: `webhooks/:id`.
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
   * `context.operation` is `deliveries` or `ping`.
   */
  webhook(context: RouteContext, reference: string): Promise<ExtensionWebhook | Response>;
  /** How a redelivered delivery names its webhook on the wire. */
  webhookName(context: RouteContext, delivery: Delivery): Promise<number | string | null>;
  /** The answer to a `page` query parameter that is not a page number. */
  invalidPage(context: RouteContext): Response;
  /** The answer with one page (it may refuse a page past the end). */
  page(context: RouteContext, page: ExtensionPage): Response;
  /** A JSON answer in the dialect's headers (202 with a delivery for ping and redeliver). */
  json(context: RouteContext, status: number, body: DeliveryJson): Response;
}

function lastParamName(pattern: string): string {
  return pattern.slice(pattern.lastIndexOf('/:') + 2);
}

/**
 * The four extension routes, for any dialect's route table: `GET {webhookPath}/deliveries`,
 * `POST {webhookPath}/ping`, `GET {deliveryPath}/attempts`, `POST {deliveryPath}/redeliver`
 * (HEAD and OPTIONS where GET is served, OPTIONS everywhere). Pages hold
 * {@link EXTENSION_PAGE_SIZE} (50) items; `?page` defaults to 1 (the last value counts).
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
  ];
}
