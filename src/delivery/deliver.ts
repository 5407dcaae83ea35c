import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { OutgoingRequest } from '../model.js';
import { VERSION } from '../version.js';
import { type AttemptClassification, classifiedStatus, classifyOutcome } from './classify.js';
import { type RetryPolicy, retryPolicies } from './retry.js';
import { signWebhook } from './signing.js';
import type { Transport, TransportError, TransportErrorCode } from './transport/contract.js';
import { kyTransport } from './transport/ky.js';
import type { SsrfOptions } from './transport/ssrf.js';

/** The default `User-Agent`: `hookline/<version>`. */
export const DEFAULT_USER_AGENT = `hookline/${VERSION}`;
/** Default attempt deadline: 30 s, covering connect, headers and body. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Default cap on the response body kept per attempt: 64 KiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 65_536;

/** One request to attempt: the rendered request, plus the delivery id and signing secrets. */
export interface DeliveryRequest extends OutgoingRequest {
  /** The delivery's stable id, sent as `webhook-id` (same on every retry, so receivers can drop duplicates). */
  id?: string;
  /** Signing secrets (`whsec_…`). When non-empty, the Standard Webhooks headers are added. */
  secrets?: readonly string[];
}

/** Options of {@link deliver}. */
export interface DeliverOptions {
  /**
   * How to send. Default: a shared {@link kyTransport} with the SSRF guard configured by `ssrf`.
   * A transport you pass carries its own SSRF guard; `ssrf` is then ignored.
   */
  transport?: Transport;
  /** Deadline for the whole attempt (connect, headers, body), in ms. Default `30_000`. */
  timeoutMs?: number;
  /** Response body bytes kept; the rest is not read. Default `65_536`. */
  maxResponseBytes?: number;
  /** SSRF guard options for the default transport. Default: block every non-public address. */
  ssrf?: SsrfOptions;
  /** The `User-Agent` header. Default `hookline/<version>`. A `user-agent` in the request's own headers wins. */
  userAgent?: string;
  /** Clock for `webhook-timestamp`, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** The policy whose `permanentStatuses` the `classification` respects. Default `retryPolicies.standard`. */
  retryPolicy?: RetryPolicy;
}

/** Error codes of a failed attempt. */
export type DeliveryErrorCode = TransportErrorCode;

/** The outcome of one attempt, as data. */
export interface DeliveryResult {
  /** `true` for a 2xx answer. */
  ok: boolean;
  /** HTTP status; `0` when there was no complete answer (timeout, refused, reset, blocked…). */
  status: number;
  /** Wall time of the attempt in ms. */
  durationMs: number;
  /** Response body, at most `maxResponseBytes` bytes, UTF-8 decoded (invalid bytes become U+FFFD). */
  responseBody: string;
  /** `true` when the response body was cut at `maxResponseBytes`. */
  responseBodyTruncated: boolean;
  /** A safe subset of response headers, lowercased (`content-type`, `retry-after`, `date`, `x-request-id`…). */
  responseHeaders: Record<string, string>;
  /** Why the attempt failed without a usable answer, or `redirect` for a 3xx. Absent for other HTTP statuses. */
  error?: TransportError;
  /** `success` (2xx), `gone` (410), `permanent` (a status the policy lists) or `retryable` (everything else); see `classifyOutcome`. */
  classification: AttemptClassification;
  /** The headers actually sent (signature headers and `user-agent` included). */
  requestHeaders: Record<string, string>;
  /** `webhook-timestamp` of this attempt, in seconds since the epoch. */
  timestamp: number;
}

/** Headers the transport computes or that must not be forwarded from templates. */
const DROPPED_HEADERS = new Set([
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
  'proxy-authorization',
  'http2-settings',
]);
const SIGNATURE_HEADERS = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature']);

let sharedTransport: Transport | undefined;
const transportsBySsrf = new WeakMap<SsrfOptions, Transport>();

function defaultTransport(ssrf: SsrfOptions | undefined): Transport {
  if (!ssrf) {
    sharedTransport ??= kyTransport();
    return sharedTransport;
  }
  let t = transportsBySsrf.get(ssrf);
  if (!t) {
    t = kyTransport({ ssrf });
    transportsBySsrf.set(ssrf, t);
  }
  return t;
}

/**
 * Sends one attempt of a delivery and returns its outcome as data: it never throws for an HTTP
 * or network outcome (a refused, reset, timed-out or SSRF-blocked attempt is `status: 0` with an
 * `error`). Redirects are not followed (a 3xx is a failure).
 *
 * Adds `User-Agent: hookline/<version>`, and when `secrets` is non-empty the Standard Webhooks
 * headers: `webhook-id` (the delivery `id`; a random `msg_…` id if none is given),
 * `webhook-timestamp` (this attempt, in seconds) and `webhook-signature` over the exact body bytes.
 * `webhook-id`/`webhook-timestamp` are also sent when only `id` is given. Hop-by-hop headers
 * (`host`, `content-length`, `connection`, `transfer-encoding`…) from the request are dropped.
 *
 * Defaults: ky transport, `timeoutMs` 30 000, `maxResponseBytes` 65 536, SSRF guard on.
 *
 * @example
 * ```ts
 * const result = await deliver(
 *   { id: 'dlv_1', url: 'https://example.com/hook', method: 'POST',
 *     headers: { 'content-type': 'application/json' }, body: '{"ok":true}', secrets: ['whsec_…'] },
 *   { timeoutMs: 10_000 },
 * );
 * if (result.classification === 'gone') await registry.disable(scope, id);
 * ```
 */
export async function deliver(
  request: DeliveryRequest,
  options: DeliverOptions = {},
): Promise<DeliveryResult> {
  const started = performance.now();
  const timestamp = Math.floor((options.now ?? Date.now)() / 1000);
  const body = Buffer.from(request.body, 'utf8');
  const secrets = request.secrets ?? [];

  const headers: Record<string, string> = {};
  let hasUserAgent = false;
  const given = request.headers;
  for (const name in given) {
    if (!Object.hasOwn(given, name)) continue;
    const lower = name.toLowerCase();
    if (DROPPED_HEADERS.has(lower) || SIGNATURE_HEADERS.has(lower)) continue;
    if (lower === 'user-agent') hasUserAgent = true;
    headers[name] = given[name] as string;
  }
  if (!hasUserAgent) headers['user-agent'] = options.userAgent ?? DEFAULT_USER_AGENT;
  const id = request.id ?? (secrets.length > 0 ? `msg_${randomUUID()}` : undefined);
  if (id !== undefined) {
    headers['webhook-id'] = id;
    headers['webhook-timestamp'] = String(timestamp);
  }
  if (id !== undefined && secrets.length > 0) {
    try {
      headers['webhook-signature'] = signWebhook({ id, timestamp, body, secrets });
    } catch (err) {
      // A secret that cannot sign (written around the registry's checks) fails this attempt as
      // data, like any other attempt that could not be sent; it is not sent unsigned.
      const message = `Could not sign the request: ${err instanceof Error ? err.message : String(err)}`;
      return {
        ok: false,
        status: 0,
        durationMs: Math.max(0, performance.now() - started),
        responseBody: '',
        responseBodyTruncated: false,
        responseHeaders: {},
        error: { code: 'invalid_request', message },
        classification: classifyOutcome({ status: 0 }, options.retryPolicy ?? retryPolicies.standard),
        requestHeaders: headers,
        timestamp,
      };
    }
  }

  const transport = options.transport ?? defaultTransport(options.ssrf);
  let outcome: Awaited<ReturnType<Transport['send']>>;
  try {
    outcome = await transport.send({
      url: request.url,
      method: request.method,
      headers,
      body,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    });
  } catch (err) {
    // A transport must not reject; if a custom one does, the attempt still becomes data.
    const message = err instanceof Error ? err.message : String(err);
    outcome = { status: 0, headers: {}, body: '', bodyTruncated: false, error: { code: 'network', message } };
  }

  const result: DeliveryResult = {
    ok: outcome.status >= 200 && outcome.status <= 299 && outcome.error === undefined,
    status: outcome.status,
    durationMs: Math.max(0, performance.now() - started),
    responseBody: outcome.body,
    responseBodyTruncated: outcome.bodyTruncated,
    responseHeaders: outcome.headers,
    classification: classifyOutcome(
      { status: classifiedStatus(outcome) },
      options.retryPolicy ?? retryPolicies.standard,
    ),
    requestHeaders: headers,
    timestamp,
  };
  if (outcome.error) result.error = outcome.error;
  return result;
}
