/**
 * What happens to a delivery after one attempt, decided in one place.
 *
 * @module
 */
import type { DeliveryTransition } from '../stores/types.js';
import {
  type AttemptClassification,
  checkAttemptNumber,
  classifiedStatus,
  classifyOutcome,
  nextAttemptDelay,
} from './classify.js';
import type { RetryPolicy } from './retry.js';

/**
 * The parts of an attempt's result that {@link decideOutcome} reads; a `DeliveryResult` from
 * `deliver()` is one.
 */
export interface DecidableResult {
  /** The HTTP status, `0` when no complete response arrived. */
  readonly status: number;
  /**
   * Why the attempt failed without a usable answer. With one, the attempt is classified as
   * status 0 (`retryable`), except a `redirect`, which keeps its 3xx status (as `deliver()` does).
   */
  readonly error?: { readonly code: string } | undefined;
  /** The response headers, lowercased; `retry-after` is read on a 429 or 503. */
  readonly responseHeaders: Readonly<Record<string, string>>;
}

/** Input of {@link decideOutcome}. */
export interface DecideInput {
  /** The attempt's result. */
  result: DecidableResult;
  /** The webhook's retry policy. */
  policy: RetryPolicy;
  /** 1-based number of the attempt just made (1 = the first attempt). */
  attempt: number;
  /** When the attempt finished: the next attempt is due `now` + the policy's delay. */
  now: Date;
  /** Random numbers in [0, 1) for the policy's jitter; called at most once, only for a jittered retry. */
  random: () => number;
}

/**
 * Why a delivery failed for good: `gone` (410), `permanent` (a status the policy lists in
 * `permanentStatuses`) or `exhausted` (retryable, but the policy has no attempt left).
 */
export type DeliveryFailure = 'gone' | 'permanent' | 'exhausted';

/**
 * What to do after an attempt: how it is classified, where the delivery goes (the transition a
 * store records), why it failed (the `delivery.failed` event's `reason`) and whether to disable
 * its webhook (`gone`: it answered 410). `failure` is non-null exactly when the transition is
 * `failed`.
 */
export type OutcomeDecision =
  | {
      classification: 'success';
      transition: Extract<DeliveryTransition, { state: 'succeeded' }>;
      failure: null;
      disable: null;
    }
  | {
      classification: 'retryable';
      transition: Extract<DeliveryTransition, { state: 'pending' }>;
      failure: null;
      disable: null;
    }
  | {
      classification: Exclude<AttemptClassification, 'success'>;
      transition: Extract<DeliveryTransition, { state: 'failed' }>;
      failure: DeliveryFailure;
      disable: 'gone' | null;
    };

/**
 * Decides what follows one attempt of a delivery. Pure: the same input gives the same decision
 * (with a `random` that returns the same numbers), and nothing given is changed.
 *
 * - 2xx: `succeeded`.
 * - 410: `failed` with `failure: 'gone'`, and `disable: 'gone'` (the webhook is disabled; no retry).
 * - a status in `policy.permanentStatuses`: `failed`, `failure: 'permanent'`.
 * - anything else (status 0, 1xx, 3xx, other 4xx, 5xx): `pending` at `now` plus
 *   {@link nextAttemptDelay} (the policy's gap with jitter, or on a 429/503 the `Retry-After`
 *   header within the policy's bounds); `failed` with `failure: 'exhausted'` once the policy has
 *   no attempt left.
 *
 * The classification is the one `deliver()` reports in its result under the same policy.
 *
 * @throws {ValidationError} when `attempt` is not a positive integer.
 *
 * @example
 * ```ts
 * const decision = decideOutcome({
 *   result: { status: 503, responseHeaders: { 'retry-after': '120' } },
 *   policy: retryPolicies.pretix,
 *   attempt: 1,
 *   now: new Date('2025-01-01T00:00:00Z'),
 *   random: Math.random,
 * });
 * // { classification: 'retryable',
 * //   transition: { state: 'pending', nextAttemptAt: 2025-01-01T00:02:00Z }, failure: null, disable: null }
 * ```
 */
export function decideOutcome(input: DecideInput): OutcomeDecision {
  const { result, policy, attempt, now } = input;
  checkAttemptNumber(attempt);
  const classification = classifyOutcome({ status: classifiedStatus(result) }, policy);
  switch (classification) {
    case 'success':
      return { classification, transition: { state: 'succeeded' }, failure: null, disable: null };
    case 'gone':
      return { classification, transition: { state: 'failed' }, failure: 'gone', disable: 'gone' };
    case 'permanent':
      return { classification, transition: { state: 'failed' }, failure: 'permanent', disable: null };
    case 'retryable': {
      const delay = nextAttemptDelay({
        policy,
        attempt,
        status: result.status,
        retryAfterHeader: result.responseHeaders['retry-after'] ?? null,
        now,
        random: input.random,
      });
      if (delay === null) {
        return { classification, transition: { state: 'failed' }, failure: 'exhausted', disable: null };
      }
      const nextAttemptAt = new Date(now.getTime() + delay);
      return {
        classification,
        transition: { state: 'pending', nextAttemptAt },
        failure: null,
        disable: null,
      };
    }
  }
}
