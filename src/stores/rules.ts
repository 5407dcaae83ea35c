/**
 * The domain rules every store keeps, written once. A JavaScript store (the memory store, a
 * user's own) calls these functions; a SQL store that must express a rule inside a statement
 * names the function here beside its SQL, and the conformance suite
 * (`hookline/testing/conformance`, its "health" and "outbox" parts) pins both to the same
 * behaviour.
 *
 * Rules, in the order a delivery meets them:
 * - a claim carries a frozen snapshot of its webhook ({@link freezeWebhook});
 * - an attempt is recorded unless the delivery was canceled ({@link mayRecordAttempt}), and
 *   moves the delivery only under the caller's current lease ({@link holdsLease},
 *   {@link deliveryAfterAttempt});
 * - the webhook's health follows every recorded attempt ({@link healthAfterAttempt}), and the
 *   worker disables a webhook whose health crosses its limits ({@link shouldAutoDisable});
 * - a finished delivery may be delivered again, a pending one may not ({@link assertRedeliverable});
 * - a pending delivery may be canceled, a finished one may not ({@link assertCancelable}); a bulk
 *   recovery looks at deliveries by final state and finishing time ({@link inRecoveryRange}).
 *
 * @module
 */
import { ConflictError, ValidationError } from '../errors.js';
import type { Delivery, DeliveryState, WebhookRecord } from '../model.js';
import type { AttemptData, DeliveryTransition, WebhookHealth } from './types.js';

/**
 * The health of a webhook that has not failed since its last success: frozen and shared, as
 * most records return it.
 *
 * @example
 * ```ts
 * HEALTHY; // { failingSince: null, consecutiveFailures: 0 }
 * ```
 */
export const HEALTHY: WebhookHealth = Object.freeze({ failingSince: null, consecutiveFailures: 0 });

/**
 * A webhook's health after one recorded attempt:
 * - a successful attempt (`ok`) clears it: `failingSince` null, `consecutiveFailures` 0;
 * - a failed attempt sets `failingSince` to the attempt's start when it was null;
 * - a failed attempt that finishes its delivery (`transition.state === 'failed'`) under the
 *   caller's current lease (`applied`) adds one to `consecutiveFailures`.
 *
 * Returns {@link HEALTHY} (the same object) when the result is healthy, `before` itself when
 * nothing changed, and a new object otherwise. SQL: the `recordAttempts` statement builder of
 * the PostgreSQL store (`stores/postgres/statements.ts`) writes the same three cases.
 *
 * @example
 * ```ts
 * healthAfterAttempt(HEALTHY, { attempt, transition: { state: 'failed' }, applied: true });
 * // { failingSince: attempt.startedAt, consecutiveFailures: 1 }
 * ```
 */
export function healthAfterAttempt(
  before: WebhookHealth,
  input: { attempt: Pick<AttemptData, 'ok' | 'startedAt'>; transition: DeliveryTransition; applied: boolean },
): WebhookHealth {
  if (input.attempt.ok) return HEALTHY;
  const failingSince = before.failingSince ?? input.attempt.startedAt;
  const consecutiveFailures =
    before.consecutiveFailures + (input.applied && input.transition.state === 'failed' ? 1 : 0);
  if (failingSince === before.failingSince && consecutiveFailures === before.consecutiveFailures)
    return before;
  return { failingSince: new Date(failingSince.getTime()), consecutiveFailures };
}

/**
 * Whether `health` is the healthy state (nothing failed since the last success).
 *
 * @example
 * ```ts
 * isHealthy(HEALTHY); // true
 * isHealthy({ failingSince: new Date(), consecutiveFailures: 0 }); // false
 * ```
 */
export function isHealthy(health: WebhookHealth): boolean {
  return health.failingSince === null && health.consecutiveFailures === 0;
}

/**
 * Limits after which the worker disables a failing webhook. Both are required here; the
 * worker's `autoDisable` option fills them in with its defaults (10 failed deliveries in a row,
 * 5 days failing).
 *
 * @example
 * ```ts
 * const limits: AutoDisableLimits = { afterConsecutiveFailures: 10, afterFailingForMs: 5 * 86_400_000 };
 * ```
 */
export interface AutoDisableLimits {
  /** Deliveries that finished `failed` in a row. */
  afterConsecutiveFailures: number;
  /** Time since the first failed attempt after the last success, in ms. */
  afterFailingForMs: number;
}

/**
 * Whether a webhook with this health should be disabled as `failing`: its consecutive failed
 * deliveries reached `afterConsecutiveFailures`, or it has been failing for at least
 * `afterFailingForMs` at `now`.
 *
 * @example
 * ```ts
 * shouldAutoDisable({ failingSince: null, consecutiveFailures: 5 }, { afterConsecutiveFailures: 5, afterFailingForMs: Infinity }, now); // true
 * ```
 */
export function shouldAutoDisable(health: WebhookHealth, limits: AutoDisableLimits, now: Date): boolean {
  const failingForMs = health.failingSince ? now.getTime() - health.failingSince.getTime() : 0;
  return (
    health.consecutiveFailures >= limits.afterConsecutiveFailures || failingForMs >= limits.afterFailingForMs
  );
}

/**
 * Whether an attempt may be recorded for a delivery in `state`: always, except for a
 * `canceled` delivery, which never gains an attempt (its webhook was disabled or removed; a
 * request still in flight then is the only attempt that could arrive, and it is dropped).
 *
 * @example
 * ```ts
 * mayRecordAttempt('pending'); // true
 * mayRecordAttempt('canceled'); // false
 * ```
 */
export function mayRecordAttempt(state: DeliveryState): boolean {
  return state !== 'canceled';
}

/**
 * Whether the caller's `leaseToken` is the delivery's current lease: the delivery is
 * `pending` and leased under exactly that token. Only then may an attempt, a cancel or a
 * release move it (a worker whose lease expired and was taken over cannot overwrite the new
 * owner's outcome).
 *
 * @example
 * ```ts
 * holdsLease({ state: 'pending', leaseToken: 'a' }, 'a'); // true
 * holdsLease({ state: 'pending', leaseToken: 'b' }, 'a'); // false: the lease was taken over
 * ```
 */
export function holdsLease(
  delivery: { state: DeliveryState; leaseToken: string | null },
  leaseToken: string,
): boolean {
  return delivery.state === 'pending' && delivery.leaseToken !== null && delivery.leaseToken === leaseToken;
}

/**
 * The fields of a delivery after an attempt moved it (its lease is cleared as well): one more
 * attempt, the attempt's status and error, and the transition's state and next attempt time.
 *
 * @example
 * ```ts
 * deliveryAfterAttempt({ attemptCount: 1 }, attempt, { state: 'pending', nextAttemptAt });
 * // { attemptCount: 2, lastStatus: 503, lastError: null, state: 'pending', nextAttemptAt }
 * ```
 */
export function deliveryAfterAttempt(
  delivery: Pick<Delivery, 'attemptCount'>,
  attempt: Pick<AttemptData, 'status' | 'error'>,
  transition: DeliveryTransition,
): Pick<Delivery, 'attemptCount' | 'lastStatus' | 'lastError' | 'state' | 'nextAttemptAt'> {
  return {
    attemptCount: delivery.attemptCount + 1,
    lastStatus: attempt.status,
    lastError: attempt.error,
    state: transition.state,
    nextAttemptAt: transition.state === 'pending' ? transition.nextAttemptAt : null,
  };
}

/**
 * Checks that a delivery in `state` may be delivered again: a finished one (`succeeded`,
 * `failed`, `canceled`) may; a `pending` one throws the `ConflictError` every store gives
 * (field `state`). A redelivered delivery is `pending`, due at once, with `attemptCount` 0.
 *
 * @example
 * ```ts
 * assertRedeliverable('d_1', 'failed'); // passes
 * assertRedeliverable('d_1', 'pending'); // throws ConflictError
 * ```
 */
export function assertRedeliverable(deliveryId: string, state: DeliveryState): void {
  if (state === 'pending') {
    throw new ConflictError(
      `Delivery ${JSON.stringify(deliveryId)} is still pending; it can be redelivered once it has finished.`,
      { field: 'state' },
    );
  }
}

/**
 * Checks that a delivery in `state` may be canceled (its retries stopped, `registry.cancel()`):
 * a `pending` one may, also under a live lease; a finished one throws the `ConflictError`
 * every store gives (field `state`). A canceled delivery is `canceled` with the reason as its
 * `lastError`, no next attempt and no lease.
 *
 * @example
 * ```ts
 * assertCancelable('d_1', 'pending'); // passes
 * assertCancelable('d_1', 'failed'); // throws ConflictError
 * ```
 */
export function assertCancelable(deliveryId: string, state: DeliveryState): void {
  if (state !== 'pending') {
    throw new ConflictError(
      `Delivery ${JSON.stringify(deliveryId)} is ${state}, not pending; only a pending delivery can be canceled.`,
      { field: 'state' },
    );
  }
}

/**
 * Whether a delivery in `state`, finished at `finishedAt` (its `updatedAt`), is one a bulk
 * recovery looks at: in one of `states`, and finished at or after `since` and before `until`.
 * The PostgreSQL store's `recoverDeliveries` statement writes the same test in SQL.
 *
 * @example
 * ```ts
 * inRecoveryRange('failed', finishedAt, { states: ['failed'], since, until }); // true when since <= finishedAt < until
 * ```
 */
export function inRecoveryRange(
  state: DeliveryState,
  finishedAt: number,
  range: { states: readonly DeliveryState[]; since: number; until: number },
): boolean {
  return range.states.includes(state) && finishedAt >= range.since && finishedAt < range.until;
}

/**
 * The `ValidationError` (field `cursor`) a store throws for a recovery cursor it did not make
 * (see `Store.recoverDeliveries`: pass back the `cursor` the previous batch returned).
 *
 * @example
 * ```ts
 * throw badRecoverCursor();
 * ```
 */
export function badRecoverCursor(): ValidationError {
  return new ValidationError([
    {
      path: ['cursor'],
      code: 'invalid_cursor',
      message: 'A recovery cursor must be the cursor the previous batch of the same store returned.',
    },
  ]);
}

/** Most chart buckets one `webhookActivity` window may hold: 1 000. */
export const MAX_ACTIVITY_BUCKETS = 1_000;

/**
 * The number of chart buckets of a `webhookActivity` window, `ceil((until - since) / bucketMs)`;
 * a `ValidationError` (code `invalid_window`) when `until` is not later than `since`,
 * `bucketMs` is not positive, or the window holds more than {@link MAX_ACTIVITY_BUCKETS}
 * buckets. Every store checks its input with it (the registry checks first, more strictly).
 *
 * @example
 * ```ts
 * activityBucketCount({ since: new Date(0), until: new Date(86_400_000), bucketMs: 3_600_000 }); // 24
 * ```
 */
export function activityBucketCount(window: { since: Date; until: Date; bucketMs: number }): number {
  const from = window.since.getTime();
  const to = window.until.getTime();
  const count = Math.ceil((to - from) / window.bucketMs);
  if (!(window.bucketMs > 0) || !(to > from) || !(count <= MAX_ACTIVITY_BUCKETS)) {
    throw new ValidationError([
      {
        path: [to > from ? 'bucketMs' : 'until'],
        code: 'invalid_window',
        message: `until must be later than since, and the window at most ${MAX_ACTIVITY_BUCKETS} buckets of bucketMs (> 0).`,
      },
    ]);
  }
  return count;
}

/**
 * A plain copy of a webhook record: arrays and dates copied, so changing the copy never
 * changes the original. Built with `Object.assign` into a literal, not by spread, so copies
 * share one hidden class in V8 (they are read on every delivery).
 *
 * @example
 * ```ts
 * const copy = copyWebhook(record);
 * copy.eventTypes.push('x'); // record.eventTypes is unchanged
 * ```
 */
export function copyWebhook(record: WebhookRecord): WebhookRecord {
  const copy: WebhookRecord = Object.assign({}, record);
  copy.eventTypes = [...record.eventTypes];
  copy.limitEvents = [...record.limitEvents];
  copy.secrets = [...record.secrets];
  copy.failingSince = record.failingSince === null ? null : new Date(record.failingSince.getTime());
  copy.createdAt = new Date(record.createdAt.getTime());
  copy.updatedAt = new Date(record.updatedAt.getTime());
  return copy;
}

/**
 * The snapshot of a webhook a claim carries: a copy, frozen with its arrays, safe to share
 * between every claim of the same version of the record (workers only read it).
 *
 * @example
 * ```ts
 * const snapshot = freezeWebhook(record);
 * Object.isFrozen(snapshot.secrets); // true
 * ```
 */
export function freezeWebhook(record: WebhookRecord): Readonly<WebhookRecord> {
  const copy = copyWebhook(record);
  Object.freeze(copy.eventTypes);
  Object.freeze(copy.limitEvents);
  Object.freeze(copy.secrets);
  return Object.freeze(copy);
}
