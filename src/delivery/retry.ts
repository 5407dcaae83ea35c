/**
 * Retry policies are plain data: a list of gaps between attempts plus a few knobs. The worker
 * asks `decideOutcome` (in `decide.ts`) what to do after each attempt; it classifies the result
 * and, for a retryable one, takes the delay from `nextAttemptDelay` (in `classify.ts`).
 *
 * @module
 */
import { ValidationError, type ValidationIssue } from '../errors.js';

/** Bounds applied to a server's `Retry-After` header (on 429 and 503 responses). */
export interface RetryAfterBounds {
  /** Shortest delay honoured, in ms. Default 1 000 (1 s). */
  minMs?: number;
  /** Longest delay honoured, in ms. Default the policy's largest gap (`max(delaysMs)`). */
  maxMs?: number;
}

/**
 * A retry schedule.
 *
 * - `delaysMs[n - 1]` is the gap after failed attempt `n` before attempt `n + 1`, so a policy
 *   makes `delaysMs.length + 1` attempts in all (an empty list means a single attempt).
 * - `jitter` (0..1, default 0) spreads each gap uniformly over `gap × (1 ± jitter)`.
 * - `permanentStatuses` are HTTP statuses that end the delivery without retry (e.g. Taler's 400).
 *   2xx (success) and 410 (gone: the webhook is disabled) always have their own meaning.
 * - `retryAfter` bounds a server's `Retry-After` on 429/503 (see {@link RetryAfterBounds}).
 *
 * @example
 * ```ts
 * const policy: RetryPolicy = { name: 'quick', delaysMs: [1_000, 10_000], jitter: 0.2 };
 * ```
 */
export interface RetryPolicy {
  /** A name for logs and configuration, e.g. `pretix`. */
  readonly name: string;
  /** Gap in ms before attempt n+1, indexed by n-1. Attempts in all = `delaysMs.length + 1`. */
  readonly delaysMs: readonly number[];
  /** Fraction 0..1 by which each gap is randomly lengthened or shortened. Default 0. */
  readonly jitter?: number;
  /** Statuses that are failures without retry. Default none. */
  readonly permanentStatuses?: readonly number[];
  /** Bounds for honouring `Retry-After` on 429/503. Default `{ minMs: 1000, maxMs: max(delaysMs) }`. */
  readonly retryAfter?: Readonly<RetryAfterBounds>;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Validates a retry policy and returns a frozen copy. Rules: `name` non-empty; every gap a
 * finite number ≥ 0 (at most 1 000 gaps); `jitter` in 0..1; `permanentStatuses` integers
 * 100..599 other than 2xx and 410; `retryAfter.minMs`/`maxMs` finite ≥ 0 with `minMs ≤ maxMs`.
 *
 * @throws {ValidationError} listing every problem, with field paths such as `['delaysMs', 2]`.
 *
 * @example
 * ```ts
 * const policy = defineRetryPolicy({ name: 'hourly', delaysMs: Array(24).fill(3_600_000), jitter: 0.1 });
 * ```
 */
export function defineRetryPolicy(input: RetryPolicy): RetryPolicy {
  const issues: ValidationIssue[] = [];
  const isDelay = (value: unknown): value is number =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0;

  if (typeof input.name !== 'string' || input.name.trim() === '') {
    issues.push({ path: ['name'], code: 'invalid_name', message: 'A retry policy needs a non-empty name.' });
  }
  if (!Array.isArray(input.delaysMs)) {
    issues.push({
      path: ['delaysMs'],
      code: 'invalid_type',
      message: 'delaysMs must be an array of numbers.',
    });
  } else {
    if (input.delaysMs.length > 1000) {
      issues.push({ path: ['delaysMs'], code: 'too_many', message: 'A policy may have at most 1000 gaps.' });
    }
    input.delaysMs.forEach((delay: unknown, index) => {
      if (!isDelay(delay)) {
        issues.push({
          path: ['delaysMs', index],
          code: 'invalid_delay',
          message: 'Each delay must be a finite number of milliseconds, 0 or more.',
        });
      }
    });
  }
  if (input.jitter !== undefined) {
    const j: unknown = input.jitter;
    if (typeof j !== 'number' || !(j >= 0 && j <= 1)) {
      issues.push({
        path: ['jitter'],
        code: 'out_of_range',
        message: 'jitter must be a number from 0 to 1.',
      });
    }
  }
  if (input.permanentStatuses !== undefined) {
    if (!Array.isArray(input.permanentStatuses)) {
      issues.push({
        path: ['permanentStatuses'],
        code: 'invalid_type',
        message: 'permanentStatuses must be an array of HTTP status codes.',
      });
    } else {
      input.permanentStatuses.forEach((status: unknown, index) => {
        if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
          issues.push({
            path: ['permanentStatuses', index],
            code: 'invalid_status',
            message: 'Each permanent status must be an integer HTTP status from 100 to 599.',
          });
        } else if ((status >= 200 && status < 300) || status === 410) {
          issues.push({
            path: ['permanentStatuses', index],
            code: 'reserved_status',
            message: `Status ${status} cannot be permanent: 2xx is success and 410 always disables the webhook.`,
          });
        }
      });
    }
  }
  const bounds = input.retryAfter;
  if (bounds !== undefined) {
    if (bounds.minMs !== undefined && !isDelay(bounds.minMs)) {
      issues.push({
        path: ['retryAfter', 'minMs'],
        code: 'invalid_delay',
        message: 'retryAfter.minMs must be a finite number of milliseconds, 0 or more.',
      });
    }
    if (bounds.maxMs !== undefined && !isDelay(bounds.maxMs)) {
      issues.push({
        path: ['retryAfter', 'maxMs'],
        code: 'invalid_delay',
        message: 'retryAfter.maxMs must be a finite number of milliseconds, 0 or more.',
      });
    }
    if (isDelay(bounds.minMs) && isDelay(bounds.maxMs) && bounds.minMs > bounds.maxMs) {
      issues.push({
        path: ['retryAfter'],
        code: 'invalid_range',
        message: 'retryAfter.minMs must not exceed retryAfter.maxMs.',
      });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);

  const policy: {
    name: string;
    delaysMs: readonly number[];
    jitter?: number;
    permanentStatuses?: readonly number[];
    retryAfter?: Readonly<RetryAfterBounds>;
  } = { name: input.name, delaysMs: Object.freeze([...input.delaysMs]) };
  if (input.jitter !== undefined) policy.jitter = input.jitter;
  if (input.permanentStatuses !== undefined) {
    policy.permanentStatuses = Object.freeze([...input.permanentStatuses]);
  }
  if (bounds !== undefined) policy.retryAfter = Object.freeze({ ...bounds });
  return Object.freeze(policy);
}

/**
 * How many attempts a policy makes in all: `delaysMs.length + 1`.
 *
 * @example
 * ```ts
 * maxAttempts(retryPolicies.pretix); // 12
 * ```
 */
export function maxAttempts(policy: RetryPolicy): number {
  return policy.delaysMs.length + 1;
}

/**
 * The built-in policies.
 *
 * - `pretix`: what pretix does. 12 attempts, gaps 5 s, 30 s, 1 min, 5 min, 20 min, 1 h, 4 h,
 *   6 h, 12 h, 12 h, 24 h (about 2.5 days in all), no jitter, nothing permanent but 410.
 * - `taler`: modelled on the GNU Taler merchant. 400 is permanent (never retried). Then a
 *   first retry after 1 min (Taler retries 5xx after a minute) and hourly retries after that
 *   (Taler's "anything else after 1 h"), bounded at 26 attempts, i.e. about 24 hours. Taler
 *   itself is reported not to cap retries; hookline bounds them so a dead endpoint cannot keep
 *   a queue entry alive forever. Define your own policy for a longer tail.
 * - `standard`: the Standard Webhooks recommendation. 8 attempts, gaps 5 s, 5 min, 30 min,
 *   2 h, 5 h, 10 h, 10 h (about 27.6 hours), ±10 % jitter so that retries of a burst spread out.
 *
 * All honour `Retry-After` on 429/503 within [1 s, the policy's largest gap].
 *
 * @example
 * ```ts
 * maxAttempts(retryPolicies.pretix); // 12
 * retryPolicies.taler.permanentStatuses; // [400]
 * ```
 */
export const retryPolicies = Object.freeze({
  pretix: defineRetryPolicy({
    name: 'pretix',
    delaysMs: [
      5 * SECOND,
      30 * SECOND,
      MINUTE,
      5 * MINUTE,
      20 * MINUTE,
      HOUR,
      4 * HOUR,
      6 * HOUR,
      12 * HOUR,
      12 * HOUR,
      24 * HOUR,
    ],
  }),
  taler: defineRetryPolicy({
    name: 'taler',
    delaysMs: [MINUTE, ...Array.from({ length: 24 }, () => HOUR)],
    permanentStatuses: [400],
  }),
  standard: defineRetryPolicy({
    name: 'standard',
    delaysMs: [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR],
    jitter: 0.1,
  }),
} satisfies Record<string, RetryPolicy>);

/** Names of the built-in policies: `'pretix' | 'taler' | 'standard'`. */
export type RetryPolicyName = keyof typeof retryPolicies;
