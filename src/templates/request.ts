/**
 * Turning a webhook and a notification into the HTTP request that is queued for delivery.
 *
 * @module
 */
import { invalidOption, TemplateError } from '../errors.js';
import {
  type Notification,
  type OutgoingRequest,
  TEMPLATE_ESCAPES,
  type TemplateEscape,
  type WebhookRecord,
} from '../model.js';
import { checkOptionalByteCount, checkOptionalOneOf } from '../options.js';
import { escaperFor } from './escape.js';
import { renderHeadersWith } from './headers.js';
import { renderTemplateWith } from './render.js';
import { DEFAULT_MAX_TEMPLATE_BYTES, exceedsBytes } from './validate.js';

/**
 * The shape of the default JSON body: `'pretix'` or `'generic'` (hookline's default). See
 * {@link defaultPayload}.
 *
 * @example
 * ```ts
 * const style: PayloadStyle = 'pretix';
 * ```
 */
export type PayloadStyle = 'pretix' | 'generic';

/** Options of {@link defaultPayload}. */
export interface DefaultPayloadOptions {
  /** The notification's id: the same for every webhook and every retry. */
  notificationId: string;
  /** Payload shape. Default `'generic'`. */
  style?: PayloadStyle;
  /**
   * `timestamp` of a generic payload when the notification has no `occurredAt`.
   * Default: the current time.
   */
  now?: Date;
}

/**
 * Keys a pretix payload always has; data keys with these names are ignored.
 *
 * @example
 * ```ts
 * PRETIX_FIXED_KEYS; // ['notification_id', 'organizer', 'event', 'action']
 * ```
 */
export const PRETIX_FIXED_KEYS: readonly string[] = Object.freeze([
  'notification_id',
  'organizer',
  'event',
  'action',
]);

/** Every {@link PayloadStyle}, in the order error messages list them. Internal. */
export const PAYLOAD_STYLES: readonly PayloadStyle[] = Object.freeze(['generic', 'pretix']);

/** Throws `invalid_option` unless `id` is a string (the notification id). */
function checkNotificationId(where: string, id: unknown): void {
  if (typeof id !== 'string')
    throw invalidOption(where, 'notificationId', 'a string (the notification id)', id);
}

/** The last time written by {@link isoString}: emits in one millisecond share it. */
let isoMs = Number.NaN;
let isoText = '';

/** `date.toISOString()`, remembered for the last millisecond asked (it costs about a µs). */
function isoString(date: Date): string {
  const ms = date.getTime();
  if (ms !== isoMs) {
    isoText = date.toISOString(); // throws RangeError for an invalid date, as before
    isoMs = ms;
  }
  return isoText;
}

/**
 * The JSON body sent when a webhook has no body template.
 *
 * - `'pretix'`: `{ "notification_id", "organizer", "event", ...data, "action" }`:
 *   `organizer` is the scope, `event` the event slug or `null`, `action` the notification
 *   type. Data keys come between `event` and `action` so that an order notification with
 *   `data: { code }` is byte for byte what pretix sends; data keys named like the four fixed
 *   keys are ignored (the fixed values always win).
 * - `'generic'` (default), shaped like the Standard Webhooks payload:
 *   `{ "id", "type", "timestamp", "scope", "event"?, "data" }`: `id` is the notification id,
 *   `timestamp` is `occurredAt` (or `now`) in ISO 8601, `event` is present only when the
 *   notification names one, and `data` is the notification's data as given.
 *
 * @example
 * ```ts
 * defaultPayload({ scope: 'acme', type: 'pretix.event.order.paid', event: 'democon', data: { code: 'AB12C' } },
 *   { notificationId: '17', style: 'pretix' });
 * // { notification_id: '17', organizer: 'acme', event: 'democon', code: 'AB12C', action: 'pretix.event.order.paid' }
 * ```
 *
 * @throws {HooklineError} `invalid_option` for a `style` other than `'generic'` or `'pretix'`
 *   or a `notificationId` that is not a string.
 */
export function defaultPayload(
  notification: Notification,
  options: DefaultPayloadOptions,
): Record<string, unknown> {
  checkNotificationId('defaultPayload()', options?.notificationId);
  checkOptionalOneOf('defaultPayload()', 'style', options.style, PAYLOAD_STYLES);
  return buildDefaultPayload(notification, options.notificationId, options.style ?? 'generic', options.now);
}

/** {@link defaultPayload} without the option checks, for callers that checked them. Internal. */
function buildDefaultPayload(
  notification: Notification,
  notificationId: string,
  style: PayloadStyle,
  now: Date | undefined,
): Record<string, unknown> {
  const data = notification.data ?? {};
  const event = notification.event ?? null;
  if (style === 'pretix') {
    const payload: Record<string, unknown> = {
      notification_id: notificationId,
      organizer: notification.scope,
      event,
    };
    for (const [key, value] of Object.entries(data)) {
      if (!PRETIX_FIXED_KEYS.includes(key))
        Object.defineProperty(payload, key, { value, enumerable: true, writable: true, configurable: true });
    }
    payload.action = notification.type;
    return payload;
  }
  const when = notification.occurredAt ?? now ?? new Date();
  const id = notificationId;
  const timestamp = isoString(when);
  // Two literals rather than a conditional spread in the middle of one (a runtime call per payload).
  return event === null
    ? { id, type: notification.type, timestamp, scope: notification.scope, data }
    : { id, type: notification.type, timestamp, scope: notification.scope, event, data };
}

/**
 * The webhook fields {@link renderRequest} uses (a full `WebhookRecord` fits).
 *
 * @example
 * ```ts
 * const hook: RenderableWebhook = { url: 'https://x.example/h', method: 'POST',
 *   headerTemplate: null, bodyTemplate: null, templateEscape: null };
 * ```
 */
export type RenderableWebhook = Pick<
  WebhookRecord,
  'url' | 'method' | 'headerTemplate' | 'bodyTemplate' | 'templateEscape'
>;

/**
 * {@link RenderRequestOptions} checked and with their defaults applied: what
 * {@link renderRequestUnchecked} takes. Internal.
 */
export interface ResolvedRenderOptions {
  notificationId: string;
  payloadStyle: PayloadStyle;
  defaultEscape: TemplateEscape;
  maxTemplateBytes: number;
  now: Date | undefined;
}

/** Options of {@link renderRequest}. */
export interface RenderRequestOptions {
  /** The notification's id (goes into default payloads). */
  notificationId: string;
  /** Shape of the default body when there is no body template. Default `'generic'`. */
  payloadStyle?: PayloadStyle;
  /** Escape mode for webhooks whose `templateEscape` is `null`. Default `'html'` (Taler). */
  defaultEscape?: TemplateEscape;
  /** Largest template accepted, in UTF-8 bytes. Default 64 KiB. */
  maxTemplateBytes?: number;
  /** Timestamp for generic payloads when the notification has no `occurredAt`. Default now. */
  now?: Date;
}

const JSON_CONTENT_TYPE = 'application/json';
const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

function looksLikeJson(body: string): boolean {
  const first = body.trimStart().charAt(0);
  if (first !== '{' && first !== '[') return false;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

function checkSize(template: string, field: string, limit: number): void {
  if (exceedsBytes(template, limit)) {
    throw new TemplateError('template_invalid', `The ${field} is larger than ${limit} bytes.`);
  }
}

/**
 * Renders the request for one webhook and one notification (done at emit time; the result is
 * stored with the delivery).
 *
 * - Template data: the notification's `data` (its keys are top-level variables, as in Taler).
 * - Escape mode: the webhook's `templateEscape`, else `defaultEscape`, else `'html'`.
 * - Headers: the rendered header template (see `renderHeaders`), or none.
 * - Body: the rendered body template; without one, the {@link defaultPayload} as JSON.
 *   A `GET` request never has a body (fetch cannot send one): its body is `''`, and no
 *   `Content-Type` is added.
 * - `Content-Type`: a header template's own value always wins. Otherwise `application/json`
 *   for the default payload or a rendered body that is a JSON object or array;
 *   `text/plain; charset=utf-8` for any other non-empty rendered body; none for an empty body.
 * - The URL and method are used as stored (they are not templates).
 *
 * @throws {TemplateError} `template_invalid` (template does not parse or is over the size
 *   limit) or `template_render_failed` (unsafe header, unprintable value).
 * @throws {HooklineError} `invalid_option` for an option of the wrong type or value.
 *
 * @example
 * ```ts
 * renderRequest(
 *   { url: 'https://shop.example/hook', method: 'POST', templateEscape: null,
 *     headerTemplate: 'X-Taler-Order: {{order_id}}',
 *     bodyTemplate: '{"amount":"{{contract_terms.amount}}"}' },
 *   { scope: 'default', type: 'pay', data: { order_id: '2025.123-01ABC', contract_terms: { amount: 'KUDOS:5' } } },
 *   { notificationId: 'n1' },
 * );
 * // { url: 'https://shop.example/hook', method: 'POST', body: '{"amount":"KUDOS:5"}',
 * //   headers: { 'X-Taler-Order': '2025.123-01ABC', 'Content-Type': 'application/json' } }
 * ```
 */
export function renderRequest(
  webhook: RenderableWebhook,
  notification: Notification,
  options: RenderRequestOptions,
): OutgoingRequest {
  const where = 'renderRequest()';
  checkNotificationId(where, options?.notificationId);
  checkOptionalOneOf(where, 'payloadStyle', options.payloadStyle, PAYLOAD_STYLES);
  checkOptionalOneOf(where, 'defaultEscape', options.defaultEscape, TEMPLATE_ESCAPES);
  checkOptionalByteCount(where, 'maxTemplateBytes', options.maxTemplateBytes, 1);
  if (options.now !== undefined && !(options.now instanceof Date)) {
    throw invalidOption(where, 'now', 'a Date', options.now);
  }
  return renderRequestUnchecked(webhook, notification, {
    notificationId: options.notificationId,
    payloadStyle: options.payloadStyle ?? 'generic',
    defaultEscape: options.defaultEscape ?? 'html',
    maxTemplateBytes: options.maxTemplateBytes ?? DEFAULT_MAX_TEMPLATE_BYTES,
    now: options.now,
  });
}

/**
 * {@link renderRequest} for options already checked (the registry checks its own when it is
 * built), so nothing is checked again per delivery. The escape mode is still checked, once per
 * template, by `escaperFor`: the webhook's own `templateEscape` is data, not an option. Internal.
 */
export function renderRequestUnchecked(
  webhook: RenderableWebhook,
  notification: Notification,
  options: ResolvedRenderOptions,
): OutgoingRequest {
  const limit = options.maxTemplateBytes;
  const escapeMode = webhook.templateEscape ?? options.defaultEscape;
  const data = notification.data ?? {};

  let headers: Record<string, string> = {};
  if (webhook.headerTemplate !== null) {
    checkSize(webhook.headerTemplate, 'header template', limit);
    headers = renderHeadersWith(webhook.headerTemplate, data, escaperFor(escapeMode, 'renderHeaders()'));
  }

  let body = '';
  let contentType: string | undefined;
  if (webhook.method !== 'GET') {
    if (webhook.bodyTemplate === null) {
      try {
        body = JSON.stringify(
          buildDefaultPayload(notification, options.notificationId, options.payloadStyle, options.now),
        );
      } catch (err) {
        throw new TemplateError(
          'template_render_failed',
          'The notification data cannot be written as JSON.',
          {
            cause: err,
          },
        );
      }
      contentType = JSON_CONTENT_TYPE;
    } else {
      checkSize(webhook.bodyTemplate, 'body template', limit);
      body = renderTemplateWith(webhook.bodyTemplate, data, escaperFor(escapeMode, 'renderTemplate()'));
      if (body !== '') contentType = looksLikeJson(body) ? JSON_CONTENT_TYPE : TEXT_CONTENT_TYPE;
    }
  }

  if (contentType !== undefined) {
    if (webhook.headerTemplate === null) headers = { 'Content-Type': contentType };
    else if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = contentType;
    }
  }
  return { url: webhook.url, method: webhook.method, headers, body };
}
