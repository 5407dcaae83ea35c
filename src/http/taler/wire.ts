/**
 * The GNU Taler merchant wire format: error codes and hints (spelled as Taler spells them),
 * body parsing with Taler's JSON-spec semantics, and webhook serialization.
 */
import type { Webhook } from '../../model.js';

/** One Taler error: HTTP status, numeric code and the exact hint text. */
export interface TalerErrorSpec {
  readonly status: number;
  readonly code: number;
  readonly hint: string;
}

/**
 * The Taler error codes the handler uses. Hints are reproduced exactly, typos included
 * ("elready", "it is not exist"), because clients may compare them.
 *
 * @example
 * ```ts
 * TALER_ERRORS.MERCHANT_GENERIC_WEBHOOK_UNKNOWN; // { status: 404, code: 2019, hint: '...' }
 * ```
 */
export const TALER_ERRORS = {
  GENERIC_METHOD_INVALID: {
    status: 405,
    code: 20,
    hint: 'The HTTP method used is invalid for this endpoint.',
  },
  GENERIC_ENDPOINT_UNKNOWN: {
    status: 404,
    code: 21,
    hint: 'There is no endpoint defined for the URL provided by the client.',
  },
  GENERIC_JSON_INVALID: {
    status: 400,
    code: 22,
    hint: "The JSON in the client's request was malformed (generic parse error).",
  },
  GENERIC_PARAMETER_MALFORMED: { status: 400, code: 26, hint: 'A parameter in the request was malformed.' },
  GENERIC_UPLOAD_EXCEEDS_LIMIT: {
    status: 413,
    code: 32,
    hint: 'The body is too large to be permissible for the endpoint.',
  },
  GENERIC_DB_STORE_FAILED: {
    status: 500,
    code: 52,
    hint: 'The service failed to store information in its database.',
  },
  GENERIC_DB_FETCH_FAILED: {
    status: 500,
    code: 53,
    hint: 'The service failed to fetch information from its database.',
  },
  GENERIC_INTERNAL_INVARIANT_FAILURE: {
    status: 500,
    code: 60,
    hint: 'The HTTP server experienced an internal invariant failure (bug).',
  },
  MERCHANT_GENERIC_INSTANCE_UNKNOWN: {
    status: 404,
    code: 2000,
    hint: 'The backend could not find the merchant instance specified in the request.',
  },
  MERCHANT_GENERIC_UNAUTHORIZED: {
    status: 401,
    code: 2015,
    hint: 'The merchant refused the request due to lack of authorization.',
  },
  MERCHANT_GENERIC_WEBHOOK_UNKNOWN: {
    status: 404,
    code: 2019,
    hint: 'The backend could not find the webhook(id) because it is not exist.',
  },
  MERCHANT_PRIVATE_POST_WEBHOOKS_CONFLICT_WEBHOOK_EXISTS: {
    status: 409,
    code: 2900,
    hint: 'The webhook ID elready exists.',
  },
} as const satisfies Record<string, TalerErrorSpec>;

/** The name of a Taler error in {@link TALER_ERRORS}. */
export type TalerErrorName = keyof typeof TALER_ERRORS;

/** A Taler error body. `field` is set for JSON field errors (code 22). */
export interface TalerErrorBody {
  code: number;
  hint: string;
  detail?: string;
  field?: string;
}

/** Builds an error body. */
export function talerError(
  name: TalerErrorName,
  extra: { detail?: string; field?: string } = {},
): TalerErrorBody {
  const spec = TALER_ERRORS[name];
  return { code: spec.code, hint: spec.hint, ...extra };
}

/** A webhook as `GET .../webhooks/{id}` returns it (no `webhook_id`, absent templates omitted). */
export interface TalerWebhookDetails {
  event_type: string;
  url: string;
  http_method: string;
  header_template?: string;
  body_template?: string;
}

/**
 * Serializes a webhook for `GET .../webhooks/{id}`.
 *
 * @example
 * ```ts
 * toTalerWebhook(await registry.getByKey('default', 'pay-hook')); // { event_type: 'pay', url, http_method: 'POST' }
 * ```
 */
export function toTalerWebhook(webhook: Webhook): TalerWebhookDetails {
  return {
    event_type: webhook.eventTypes[0] ?? '',
    url: webhook.url,
    http_method: webhook.method,
    ...(webhook.headerTemplate === null ? {} : { header_template: webhook.headerTemplate }),
    ...(webhook.bodyTemplate === null ? {} : { body_template: webhook.bodyTemplate }),
  };
}

/** The fields of a POST or PATCH body. */
export interface TalerWebhookBody {
  webhook_id?: string;
  event_type: string;
  url: string;
  http_method: string;
  header_template: string | null;
  body_template: string | null;
}

/** The outcome of {@link parseTalerBody}: the fields, or the first field that failed. */
export type TalerParseResult = { ok: true; value: TalerWebhookBody } | { ok: false; field: string };

/**
 * Parses a body like Taler's JSON specs: fields are checked in order and the first missing or
 * mistyped one is reported; `null` counts as absent for optional fields; unknown fields are
 * ignored. POST requires `webhook_id`; both require `event_type`, `url`, `http_method`.
 */
export function parseTalerBody(body: unknown, withId: boolean): TalerParseResult {
  const input: Record<string, unknown> =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  const required = withId
    ? (['webhook_id', 'event_type', 'url', 'http_method'] as const)
    : (['event_type', 'url', 'http_method'] as const);
  const strings: Record<string, string> = {};
  for (const name of required) {
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    if (typeof value !== 'string') return { ok: false, field: name };
    strings[name] = value;
  }
  const optional: Record<string, string | null> = {};
  for (const name of ['header_template', 'body_template'] as const) {
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    if (value === undefined || value === null) optional[name] = null;
    else if (typeof value === 'string') optional[name] = value;
    else return { ok: false, field: name };
  }
  return {
    ok: true,
    value: {
      ...(withId ? { webhook_id: strings.webhook_id ?? '' } : {}),
      event_type: strings.event_type ?? '',
      url: strings.url ?? '',
      http_method: strings.http_method ?? '',
      header_template: optional.header_template ?? null,
      body_template: optional.body_template ?? null,
    },
  };
}

const WIRE_NAMES: Readonly<Record<string, string>> = {
  key: 'webhook_id',
  eventTypes: 'event_type',
  url: 'url',
  method: 'http_method',
  headerTemplate: 'header_template',
  bodyTemplate: 'body_template',
  // The ordering extension's body (`PUT .../webhooks/{webhook_id}/ordering`), not webhook fields.
  ordering: 'ordering',
  on_failure: 'on_failure',
};

/** The Taler field name for a registry issue path (for `detail` of code 26). */
export function talerFieldOf(path: readonly (string | number)[]): string | undefined {
  const head = path[0];
  return typeof head === 'string' ? WIRE_NAMES[head] : undefined;
}
