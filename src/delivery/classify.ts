/**
 * What an attempt's outcome means, and when (if ever) to try again.
 *
 * @module
 */
import { ValidationError } from '../errors.js';
import type { RetryPolicy } from './retry.js';

/**
 * The meaning of one attempt's result:
 * - `success`: a 2xx response;
 * - `gone`: 410, the receiver says the endpoint is gone: disable the webhook, do not retry;
 * - `permanent`: a status the policy lists in `permanentStatuses`: fail without retry;
 * - `retryable`: everything else, i.e. 1xx, 3xx (redirects are not followed), other 4xx,
 *   5xx, and status 0 (timeout, DNS failure, refused connection, TLS error, blocked by the
 *   SSRF guard).
 */
export type AttemptClassification = 'success' | 'gone' | 'retryable' | 'permanent';

/** The result of one attempt, as {@link classifyOutcome} needs it. */
export interface ClassifiableResult {
  /** The HTTP status, or 0 when no response was received (transport error, timeout, SSRF block). */
  status: number;
  /**
   * The error behind a status 0, if any. Informational: every transport error, including an
   * SSRF block, is classified `retryable` (DNS answers and network rules change).
   */
  error?: unknown;
}

/**
 * Classifies an attempt's result under a policy. Precedence: 2xx → `success`, 410 → `gone`,
 * `policy.permanentStatuses` → `permanent`, anything else (including status 0) → `retryable`.
 * An attempt blocked by the SSRF guard has status 0 and is `retryable`: the host name may
 * resolve to a public address later, and the policy's schedule bounds the retries.
 *
 * @example
 * ```ts
 * classifyOutcome({ status: 204 }, retryPolicies.pretix); // 'success'
 * classifyOutcome({ status: 410 }, retryPolicies.pretix); // 'gone'
 * classifyOutcome({ status: 400 }, retryPolicies.taler); // 'permanent'
 * classifyOutcome({ status: 0, error }, retryPolicies.pretix); // 'retryable'
 * ```
 */
export function classifyOutcome(result: ClassifiableResult, policy: RetryPolicy): AttemptClassification {
  const { status } = result;
  if (status >= 200 && status <= 299) return 'success';
  if (status === 410) return 'gone';
  if (policy.permanentStatuses?.includes(status)) return 'permanent';
  return 'retryable';
}

/**
 * The status an attempt is classified by: its own, except that an attempt that failed with an
 * `error` counts as status 0 (no usable answer), unless the error is a `redirect`, which keeps
 * its 3xx. `deliver()` classifies its result by it, and so does `decideOutcome`, so the two agree.
 *
 * @example
 * ```ts
 * classifiedStatus({ status: 503 }); // 503
 * classifiedStatus({ status: 302, error: { code: 'redirect' } }); // 302
 * classifiedStatus({ status: 0, error: { code: 'timeout' } }); // 0
 * ```
 */
export function classifiedStatus(result: {
  readonly status: number;
  readonly error?: { readonly code: string } | undefined;
}): number {
  const { error } = result;
  // Truthiness, not `=== undefined`: a custom transport may say `error: null`.
  return !error || error.code === 'redirect' ? result.status : 0;
}

/**
 * Checks a 1-based attempt number (1 = the first attempt).
 *
 * @throws {ValidationError} (path `['attempt']`, code `out_of_range`) when it is not a positive integer.
 *
 * @example
 * ```ts
 * checkAttemptNumber(1); // passes
 * checkAttemptNumber(0); // throws ValidationError
 * ```
 */
export function checkAttemptNumber(attempt: number): void {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new ValidationError([
      {
        path: ['attempt'],
        code: 'out_of_range',
        message: 'attempt must be a positive integer (1 = first attempt).',
      },
    ]);
  }
}

/** Default lower bound of an honoured `Retry-After`, in ms. */
export const DEFAULT_RETRY_AFTER_MIN_MS = 1_000;

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms.
const IMF_FIXDATE = new RegExp(`^(?:${DAYS.join('|')}), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC_850 = new RegExp(`^(?:${LONG_DAYS.join('|')}), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^(?:${DAYS.join('|')}) ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

function utc(year: number, month: string, day: string, h: string, m: string, s: string): number | null {
  const monthIndex = MONTHS.indexOf(month);
  const [dd, hh, mm, ss] = [Number(day.trim()), Number(h), Number(m), Number(s)];
  if (dd < 1 || dd > 31 || hh > 23 || mm > 59 || ss > 60) return null;
  const ms = Date.UTC(year, monthIndex, dd, hh, mm, Math.min(ss, 59));
  // Reject dates such as 31 Feb that Date.UTC would silently roll over.
  return new Date(ms).getUTCDate() === dd ? ms : null;
}

function parseHttpDate(text: string, nowMs: number): number | null {
  let match = IMF_FIXDATE.exec(text);
  if (match) {
    const [, day = '', month = '', year = '', h = '', m = '', s = ''] = match;
    return utc(Number(year), month, day, h, m, s);
  }
  match = RFC_850.exec(text);
  if (match) {
    const [, day = '', month = '', yy = '', h = '', m = '', s = ''] = match;
    // RFC 9110: a two-digit year more than 50 years in the future means the past century.
    const thisYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(yy);
    if (year > thisYear + 50) year -= 100;
    return utc(year, month, day, h, m, s);
  }
  match = ASCTIME.exec(text);
  if (match) {
    const [, month = '', day = '', h = '', m = '', s = '', year = ''] = match;
    return utc(Number(year), month, day, h, m, s);
  }
  return null;
}

function toMillis(now: Date | number | undefined): number {
  if (now === undefined) return Date.now();
  return typeof now === 'number' ? now : now.getTime();
}

/**
 * Parses a `Retry-After` header value into a delay in ms from `now`: either delta-seconds
 * (`"120"`) or an HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, plus the obsolete RFC 850 and
 * asctime forms). A date in the past gives 0. Returns `null` for a missing or malformed value.
 *
 * @param now the current time as a `Date` or ms since the epoch. Default `Date.now()`.
 *
 * @example
 * ```ts
 * parseRetryAfter('120'); // 120000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('2015-10-21T07:28:00Z')); // 30000
 * parseRetryAfter('soon'); // null
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now?: Date | number): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const nowMs = toMillis(now);
  const at = parseHttpDate(text, nowMs);
  return at === null ? null : Math.max(0, at - nowMs);
}

/** Input to {@link nextAttemptDelay}. */
export interface NextAttemptInput {
  /** The webhook's retry policy. */
  policy: RetryPolicy;
  /** 1-based number of the attempt that just failed (1 = the first attempt). */
  attempt: number;
  /** That attempt's HTTP status, 0 when no response was received. */
  status: number;
  /** The response's `Retry-After` header, if any. Only used for 429 and 503. */
  retryAfterHeader?: string | null;
  /** Source of randomness in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** The current time (`Date` or ms since the epoch), for an HTTP-date `Retry-After`. Default `Date.now()`. */
  now?: Date | number;
}

/**
 * How long to wait, in ms, before the next attempt, or `null` when there is none: the outcome
 * is not `retryable` (see {@link classifyOutcome}) or the policy's attempts are used up
 * (`attempt >= delaysMs.length + 1`).
 *
 * The delay is the policy's gap `delaysMs[attempt - 1]`, with jitter: multiplied by
 * `1 + jitter × (2 × random() − 1)`, i.e. uniformly within `gap × (1 ± jitter)`, and rounded to
 * whole ms. On a 429 or 503 with a valid `Retry-After` the server's delay replaces the gap
 * (without jitter), clamped to `[retryAfter.minMs ?? 1000, retryAfter.maxMs ?? max(delaysMs)]`,
 * so a server can neither make hookline hammer it nor park a delivery beyond the schedule's
 * longest gap. `Retry-After` never adds attempts.
 *
 * @throws {ValidationError} when `attempt` is not a positive integer.
 *
 * @example
 * ```ts
 * nextAttemptDelay({ policy: retryPolicies.pretix, attempt: 1, status: 500 }); // 5000
 * nextAttemptDelay({ policy: retryPolicies.pretix, attempt: 12, status: 500 }); // null (12 attempts made)
 * nextAttemptDelay({ policy: retryPolicies.pretix, attempt: 1, status: 429, retryAfterHeader: '60' }); // 60000
 * nextAttemptDelay({ policy: retryPolicies.taler, attempt: 1, status: 400 }); // null (permanent)
 * ```
 */
export function nextAttemptDelay(input: NextAttemptInput): number | null {
  const { policy, attempt, status } = input;
  checkAttemptNumber(attempt);
  if (classifyOutcome({ status }, policy) !== 'retryable') return null;
  const gap = policy.delaysMs[attempt - 1];
  if (gap === undefined) return null;

  if (status === 429 || status === 503) {
    const requested = parseRetryAfter(input.retryAfterHeader, input.now);
    if (requested !== null) {
      const bounds = policy.retryAfter ?? {};
      const min =
        bounds.minMs ?? Math.min(DEFAULT_RETRY_AFTER_MIN_MS, bounds.maxMs ?? Number.POSITIVE_INFINITY);
      const max = Math.max(min, bounds.maxMs ?? Math.max(...policy.delaysMs));
      return Math.min(max, Math.max(min, requested));
    }
  }

  const jitter = policy.jitter ?? 0;
  if (jitter === 0) return gap;
  const random = (input.random ?? Math.random)();
  return Math.max(0, Math.round(gap * (1 + jitter * (2 * random - 1))));
}
