import { z } from 'zod';

/**
 * The core model: zod schemas for webhooks and notifications, and the TypeScript types
 * inferred from them. Field names are camelCase; the HTTP dialects map them to their wire
 * names (`target_url`, `action_types`, `http_method`, ...).
 */

/** Longest URL accepted, as in pretix. */
export const MAX_URL_LENGTH = 1024;
/** Longest `comment`, as in pretix. */
export const MAX_COMMENT_LENGTH = 255;
/** Longest scope name, webhook key, event slug or event type. */
export const MAX_NAME_LENGTH = 200;

/** HTTP methods a webhook can use (Taler's `http_method`). */
export const HTTP_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] as const;
/** An HTTP method a webhook can use. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Why a webhook is disabled: by a person or API call, by a 410 Gone answer, or by sustained failure. */
export const DISABLED_REASONS = ['manual', 'gone', 'failing'] as const;
/** Why a webhook is disabled. */
export type DisabledReason = (typeof DISABLED_REASONS)[number];

/** How `{{x}}` escapes in templates: `html` (Taler-compatible, the default) or `json`. */
export const TEMPLATE_ESCAPES = ['html', 'json'] as const;
/** How `{{x}}` escapes in templates. */
export type TemplateEscape = (typeof TEMPLATE_ESCAPES)[number];

/**
 * How a webhook's deliveries are ordered: `none` (the default: deliveries are attempted in
 * parallel, in any order) or `fifo` (one line per webhook, or per notification `orderingKey`:
 * the deliveries of a line are attempted one at a time, in emit order; see docs/ordering.md).
 *
 * @example
 * ```ts
 * await registry.update('acme', 1, { ordering: 'fifo' });
 * ```
 */
export const ORDERINGS = ['none', 'fifo'] as const;
/**
 * How a webhook's deliveries are ordered.
 *
 * @example
 * ```ts
 * const ordering: Ordering = 'fifo';
 * ```
 */
export type Ordering = (typeof ORDERINGS)[number];

/**
 * What an ordered line does when its head delivery fails for good: `continue` (the default:
 * the line moves on to the next delivery) or `pause` (the line waits until a person redelivers
 * or recovers the failed delivery, which keeps its place at the head).
 *
 * @example
 * ```ts
 * await registry.update('acme', 1, { ordering: 'fifo', orderingOnFailure: 'pause' });
 * ```
 */
export const ORDERING_FAILURE_MODES = ['continue', 'pause'] as const;
/**
 * What an ordered line does when its head fails for good.
 *
 * @example
 * ```ts
 * const onFailure: OrderingFailureMode = 'pause';
 * ```
 */
export type OrderingFailureMode = (typeof ORDERING_FAILURE_MODES)[number];

/** Control characters, refused in names and event types. Internal. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * The issue code of a text containing U+0000 (NUL), in any webhook field and anywhere in a
 * notification (fields, `data` values and `data` keys). PostgreSQL `text` and `jsonb` cannot
 * hold NUL, so hookline refuses it everywhere, whatever the store, and every store agrees.
 *
 * @example
 * ```ts
 * err.issues; // [{ path: ['comment'], code: NULL_CHARACTER_CODE, message: NULL_CHARACTER_MESSAGE }]
 * ```
 */
export const NULL_CHARACTER_CODE = 'null_character';
/**
 * The message of a {@link NULL_CHARACTER_CODE} issue, worded as Django REST framework (and so
 * pretix) words it.
 *
 * @example
 * ```ts
 * NULL_CHARACTER_MESSAGE; // 'Null characters are not allowed.'
 * ```
 */
export const NULL_CHARACTER_MESSAGE = 'Null characters are not allowed.';

/** True when `text` contains U+0000. Internal. */
export function hasNullCharacter(text: string): boolean {
  return text.includes('\u0000');
}

/** Reports a NUL in a string as a {@link NULL_CHARACTER_CODE} issue; true when there was one. */
function refuseNull(value: string, ctx: z.RefinementCtx): boolean {
  if (!hasNullCharacter(value)) return false;
  ctx.addIssue({
    code: 'custom',
    message: NULL_CHARACTER_MESSAGE,
    params: { hooklineCode: NULL_CHARACTER_CODE },
  });
  return true;
}

/** A string of free text (comment, template): anything but NUL. */
const textSchema = z.string().superRefine((value, ctx) => {
  refuseNull(value, ctx);
});

/** A non-empty name without control characters (scopes, keys, event slugs). */
export const nameSchema = z
  .string()
  .min(1, 'This field may not be blank.')
  .max(MAX_NAME_LENGTH, `Ensure this field has no more than ${MAX_NAME_LENGTH} characters.`)
  .superRefine((value, ctx) => {
    if (refuseNull(value, ctx)) return;
    if (CONTROL_CHARS.test(value))
      ctx.addIssue({ code: 'custom', message: 'Control characters are not allowed.' });
  });

/** A scope: the tenant that owns webhooks (a pretix organizer slug, a Taler instance id). */
export const scopeSchema = nameSchema;

/** A webhook key: a client-chosen id, unique per scope (Taler's `webhook_id`). No `/`. */
export const keySchema = nameSchema.refine((s) => !s.includes('/'), 'A key may not contain "/".');

/** An event-type pattern as written on a webhook: dotted names, `*` wildcards. */
export const eventTypePatternSchema = z
  .string()
  .min(1, 'An event type may not be blank.')
  .max(MAX_NAME_LENGTH, `Ensure an event type has no more than ${MAX_NAME_LENGTH} characters.`)
  .superRefine((value, ctx) => {
    if (refuseNull(value, ctx)) return;
    if (/\s/.test(value) || CONTROL_CHARS.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'An event type may not contain spaces.' });
    }
  });

/** A signing secret: Standard Webhooks `whsec_<base64>` (HMAC) or `whsk_<base64>` (ed25519 private key). */
export const secretSchema = z
  .string()
  .regex(
    /^(whsec|whsk)_[A-Za-z0-9+/]+={0,2}$/,
    'A secret must look like "whsec_<base64>" or "whsk_<base64>".',
  );

/** Options that shape URL validation. */
export interface UrlRules {
  /**
   * Accept `user:pass@` credentials inside URLs. Default `false`: credentials in a URL end up in
   * logs and read endpoints, so hookline refuses them unless the host opts in (pretix accepts them).
   */
  allowCredentials?: boolean;
}

/** Checks a target URL; returns a message for the user, or `null` when it is fine. */
export function checkUrl(value: string, rules: UrlRules = {}): string | null {
  if (value.length > MAX_URL_LENGTH)
    return `Ensure this field has no more than ${MAX_URL_LENGTH} characters.`;
  if (/\s/.test(value) || CONTROL_CHARS.test(value)) return 'Enter a valid URL.';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Enter a valid URL.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Enter a valid URL.';
  if (url.hostname === '') return 'Enter a valid URL.';
  if ((url.username !== '' || url.password !== '') && !rules.allowCredentials) {
    return 'Credentials in the URL are not allowed.';
  }
  return null;
}

/** A target URL: http or https, at most 1024 characters. Credentials are checked by the registry. */
export const urlSchema = z.string().superRefine((value, ctx) => {
  if (refuseNull(value, ctx)) return;
  const problem = checkUrl(value, { allowCredentials: true });
  if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { hooklineCode: 'invalid_url' } });
});

const methodSchema = z
  .string()
  .transform((m) => m.toUpperCase())
  .pipe(z.enum(HTTP_METHODS, { message: `Method must be one of ${HTTP_METHODS.join(', ')}.` }));

/** The writable fields of a webhook, all present (the shape `replace` takes after defaults). */
export const webhookFieldsSchema = z.strictObject({
  key: keySchema.nullable().default(null),
  enabled: z.boolean().default(true),
  url: urlSchema,
  method: methodSchema.default('POST'),
  eventTypes: z.array(eventTypePatternSchema).max(500, 'Too many event types (500 at most).'),
  allEvents: z.boolean().default(true),
  limitEvents: z.array(nameSchema).max(10_000, 'Too many events (10000 at most).').default([]),
  headerTemplate: textSchema.nullable().default(null),
  bodyTemplate: textSchema.nullable().default(null),
  templateEscape: z.enum(TEMPLATE_ESCAPES).nullable().default(null),
  comment: textSchema
    .max(MAX_COMMENT_LENGTH, `Ensure this field has no more than ${MAX_COMMENT_LENGTH} characters.`)
    .nullable()
    .default(null),
  secrets: z.array(secretSchema).max(10, 'At most 10 secrets at once.').default([]),
  ordering: z.enum(ORDERINGS).default('none'),
  orderingOnFailure: z.enum(ORDERING_FAILURE_MODES).default('continue'),
});

/**
 * Input to `registry.create()` and `registry.replace()`. Only `url` and `eventTypes` are
 * required. Unknown fields are rejected (a typo such as `eventType` is an error, not ignored).
 */
export type WebhookInput = z.input<typeof webhookFieldsSchema>;
/** The writable fields with defaults applied. */
export type WebhookFields = z.output<typeof webhookFieldsSchema>;

/** Input to `registry.update()`: any subset of the writable fields; omitted fields stay as they are. */
export const webhookPatchSchema = z.strictObject({
  key: keySchema.nullable().optional(),
  enabled: z.boolean().optional(),
  url: urlSchema.optional(),
  method: methodSchema.optional(),
  eventTypes: webhookFieldsSchema.shape.eventTypes.optional(),
  allEvents: z.boolean().optional(),
  limitEvents: webhookFieldsSchema.shape.limitEvents.removeDefault().optional(),
  headerTemplate: textSchema.nullable().optional(),
  bodyTemplate: textSchema.nullable().optional(),
  templateEscape: z.enum(TEMPLATE_ESCAPES).nullable().optional(),
  comment: webhookFieldsSchema.shape.comment.removeDefault().optional(),
  secrets: webhookFieldsSchema.shape.secrets.removeDefault().optional(),
  ordering: z.enum(ORDERINGS).optional(),
  orderingOnFailure: z.enum(ORDERING_FAILURE_MODES).optional(),
});
/** Input to `registry.update()`. */
export type WebhookPatch = z.input<typeof webhookPatchSchema>;

/**
 * A stored webhook with everything, secrets included. This is what stores keep and what the
 * delivery engine uses; it never leaves the process through hookline's read endpoints.
 */
export interface WebhookRecord extends WebhookFields {
  /** Assigned by the store: a positive integer, increasing. */
  id: number;
  scope: string;
  /** Why the webhook is disabled; `null` while it is enabled. */
  disabledReason: DisabledReason | null;
  /** When the current run of failed attempts began; `null` after a success (or before any attempt). */
  failingSince: Date | null;
  /** Deliveries in a row that ended `failed`; reset by any successful attempt. */
  consecutiveFailures: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The read model of a webhook: a {@link WebhookRecord} without its secrets. `secretCount`
 * says how many signing secrets it has. Use `registry.secrets()` to read them on purpose.
 */
export interface Webhook extends Omit<WebhookRecord, 'secrets'> {
  secretCount: number;
}

/** Strips the secrets from a record. */
export function toWebhook(record: WebhookRecord): Webhook {
  const { secrets, ...rest } = record;
  return { ...rest, secretCount: secrets.length };
}

/** A JSON value: what notification data may contain. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * One thing that happened, emitted by the host. `id` makes emitting idempotent; `event` is a
 * pretix event slug (webhooks can be limited to some events); `data` is the payload.
 */
export const notificationSchema = z.strictObject({
  id: nameSchema.optional(),
  scope: scopeSchema,
  type: eventTypePatternSchema.refine((t) => !t.includes('*'), 'A notification type may not contain "*".'),
  event: nameSchema.nullable().optional(),
  data: z.record(z.string(), z.unknown()).default({}),
  occurredAt: z.date().optional(),
  orderingKey: nameSchema.nullable().optional(),
});
/**
 * A notification as the host passes it to `emit()` and `match()`. `orderingKey` (e.g. an order
 * id) matters only to webhooks with `ordering: 'fifo'`: their deliveries of one key form one
 * line, and different keys proceed in parallel; without it the whole webhook is one line.
 */
export type Notification = z.input<typeof notificationSchema>;

/** A fully rendered HTTP request, ready to send (what is stored with a delivery). */
export interface OutgoingRequest {
  url: string;
  method: HttpMethod;
  /** Header names as rendered; values never contain CR, LF or NUL. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Where a delivery stands: `pending` (waiting for its next attempt, or being attempted under a
 * lease), `succeeded` (a 2xx answer), `failed` (attempts exhausted, a permanent error, or 410),
 * `canceled` (its webhook was disabled or removed before it could be sent).
 */
export const DELIVERY_STATES = ['pending', 'succeeded', 'failed', 'canceled'] as const;
/** Where a delivery stands. */
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * One (notification, webhook) pair to send: the request rendered at emit time, its state and
 * its schedule. `id` is stable across retries and redeliveries and is sent as `webhook-id`.
 */
export interface Delivery {
  /** Stable id, e.g. `msg_01JD...`: the `webhook-id` header, the same for every attempt. */
  id: string;
  scope: string;
  webhookId: number;
  notificationId: string;
  /** The notification's event type, e.g. `pretix.event.order.paid`. */
  type: string;
  /** The notification's event slug, or `null` for scope-level notifications. */
  event: string | null;
  /** The request rendered at emit time; later template edits do not change it. */
  request: OutgoingRequest;
  state: DeliveryState;
  /** Attempts made in the current series (a redelivery starts a new series at 0). */
  attemptCount: number;
  /** When the next attempt is due (`null` once finished, and while waiting behind its ordered line). */
  nextAttemptAt: Date | null;
  /** Status of the last attempt (0 for a transport error), `null` before the first. */
  lastStatus: number | null;
  /** Error text of the last attempt, if it failed. */
  lastError: string | null;
  /**
   * Whether the delivery is in an ordered line (its webhook had `ordering: 'fifo'` when it was
   * emitted). A pending delivery of a line waiting behind another has `nextAttemptAt` `null`.
   */
  ordered: boolean;
  /** The line's key (the notification's `orderingKey`); `null` for the whole-webhook line and for unordered deliveries. */
  orderingKey: string | null;
  /** A `failed` delivery whose line is paused behind it (`orderingOnFailure: 'pause'`) until it is redelivered. */
  pausesLine: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A delivery's own fields, copied one by one from anything that extends it (a claim, a stored
 * row), so lease and storage fields stay behind. Shallow: the request and dates are shared.
 * Written out rather than with a rest pattern, which costs several times as much per call.
 *
 * @example
 * ```ts
 * const delivery = deliveryFields(claim); // no leaseToken, leaseUntil or webhook
 * ```
 */
export function deliveryFields(d: Delivery): Delivery {
  return {
    id: d.id,
    scope: d.scope,
    webhookId: d.webhookId,
    notificationId: d.notificationId,
    type: d.type,
    event: d.event,
    request: d.request,
    state: d.state,
    attemptCount: d.attemptCount,
    nextAttemptAt: d.nextAttemptAt,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    ordered: d.ordered,
    orderingKey: d.orderingKey,
    pausesLine: d.pausesLine,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** One HTTP try of a delivery, as recorded in the attempt log. */
export interface Attempt {
  /** Increasing id assigned by the store. */
  id: number;
  deliveryId: string;
  scope: string;
  webhookId: number;
  /** 1-based number of this attempt within its series. */
  attemptNumber: number;
  /** Whether this was a retry (attemptNumber > 1) or part of a redelivery. */
  retry: boolean;
  startedAt: Date;
  durationMs: number;
  /** HTTP status, or 0 for a transport error (timeout, DNS, refused, SSRF blocked). */
  status: number;
  ok: boolean;
  /** Error text for a failed attempt, `null` on success. */
  error: string | null;
  /** The response body, capped (default 64 KiB). */
  responseBody: string;
  /** A safe subset of the response headers, lower-case names. */
  responseHeaders: Record<string, string>;
}
