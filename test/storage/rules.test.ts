import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import type { DeliveryState, WebhookRecord } from '../../src/model.js';
import {
  assertRedeliverable,
  copyWebhook,
  deliveryAfterAttempt,
  freezeWebhook,
  HEALTHY,
  healthAfterAttempt,
  holdsLease,
  isHealthy,
  mayRecordAttempt,
  shouldAutoDisable,
} from '../../src/stores/rules.js';
import type { AttemptData, DeliveryTransition, WebhookHealth } from '../../src/stores/types.js';

const at = (ms: number) => new Date(1_700_000_000_000 + ms);

const failedAttempt = (ms: number): AttemptData => ({
  startedAt: at(ms),
  durationMs: 1,
  status: 503,
  ok: false,
  error: 'HTTP 503',
  responseBody: '',
  responseHeaders: {},
});
const okAttempt = (ms: number): AttemptData => ({ ...failedAttempt(ms), status: 204, ok: true, error: null });

const FAILED: DeliveryTransition = { state: 'failed' };
const RETRY: DeliveryTransition = { state: 'pending', nextAttemptAt: at(60_000) };
const SUCCEEDED: DeliveryTransition = { state: 'succeeded' };

function record(overrides: Partial<WebhookRecord> = {}): WebhookRecord {
  return {
    key: 'k',
    enabled: true,
    url: 'https://receiver.example/hook',
    method: 'POST',
    eventTypes: ['pay'],
    allEvents: false,
    limitEvents: ['democon'],
    headerTemplate: null,
    bodyTemplate: null,
    templateEscape: null,
    comment: null,
    secrets: ['s1', 's2'],
    ordering: 'none',
    orderingOnFailure: 'continue',
    id: 7,
    scope: 'acme',
    disabledReason: null,
    failingSince: at(5),
    consecutiveFailures: 2,
    createdAt: at(1),
    updatedAt: at(2),
    ...overrides,
  };
}

describe('HEALTHY and isHealthy', () => {
  it('HEALTHY is frozen, null and zero, and healthy', () => {
    expect(HEALTHY).toEqual({ failingSince: null, consecutiveFailures: 0 });
    expect(Object.isFrozen(HEALTHY)).toBe(true);
    expect(isHealthy(HEALTHY)).toBe(true);
  });

  it('is healthy only with no failing time and no failures', () => {
    expect(isHealthy({ failingSince: null, consecutiveFailures: 0 })).toBe(true);
    expect(isHealthy({ failingSince: at(0), consecutiveFailures: 0 })).toBe(false);
    expect(isHealthy({ failingSince: null, consecutiveFailures: 1 })).toBe(false);
  });
});

describe('healthAfterAttempt', () => {
  it('returns HEALTHY itself after a successful attempt, whatever came before', () => {
    const failing: WebhookHealth = { failingSince: at(0), consecutiveFailures: 3 };
    for (const before of [HEALTHY, failing]) {
      for (const applied of [true, false]) {
        expect(healthAfterAttempt(before, { attempt: okAttempt(10), transition: SUCCEEDED, applied })).toBe(
          HEALTHY,
        );
      }
    }
  });

  it('starts failing at the first failed attempt, with its own copy of the start time', () => {
    const attempt = failedAttempt(10);
    const after = healthAfterAttempt(HEALTHY, { attempt, transition: RETRY, applied: true });
    expect(after).toEqual({ failingSince: at(10), consecutiveFailures: 0 });
    expect(after).not.toBe(HEALTHY);
    expect(after.failingSince).not.toBe(attempt.startedAt);
    expect(HEALTHY).toEqual({ failingSince: null, consecutiveFailures: 0 });
  });

  it('returns `before` itself when nothing changes', () => {
    const before: WebhookHealth = { failingSince: at(0), consecutiveFailures: 1 };
    expect(healthAfterAttempt(before, { attempt: failedAttempt(10), transition: RETRY, applied: true })).toBe(
      before,
    );
    // A failed delivery that is not applied (lease lost) does not count either.
    expect(
      healthAfterAttempt(before, { attempt: failedAttempt(10), transition: FAILED, applied: false }),
    ).toBe(before);
  });

  it('counts a failure only when the delivery finished failed under the current lease', () => {
    const before: WebhookHealth = { failingSince: at(0), consecutiveFailures: 1 };
    const after = healthAfterAttempt(before, {
      attempt: failedAttempt(10),
      transition: FAILED,
      applied: true,
    });
    expect(after).toEqual({ failingSince: at(0), consecutiveFailures: 2 });
    expect(after).not.toBe(before);
    expect(after.failingSince).not.toBe(before.failingSince);
    expect(before).toEqual({ failingSince: at(0), consecutiveFailures: 1 });
    expect(
      healthAfterAttempt(HEALTHY, { attempt: failedAttempt(10), transition: FAILED, applied: true }),
    ).toEqual({ failingSince: at(10), consecutiveFailures: 1 });
    expect(
      healthAfterAttempt(HEALTHY, { attempt: failedAttempt(10), transition: FAILED, applied: false }),
    ).toEqual({ failingSince: at(10), consecutiveFailures: 0 });
    expect(
      healthAfterAttempt(HEALTHY, { attempt: failedAttempt(10), transition: RETRY, applied: true }),
    ).toEqual({ failingSince: at(10), consecutiveFailures: 0 });
  });

  it('keeps the first failing time through later failures', () => {
    let health: WebhookHealth = HEALTHY;
    for (const ms of [10, 20, 30]) {
      health = healthAfterAttempt(health, { attempt: failedAttempt(ms), transition: FAILED, applied: true });
    }
    expect(health).toEqual({ failingSince: at(10), consecutiveFailures: 3 });
  });
});

describe('shouldAutoDisable', () => {
  const limits = { afterConsecutiveFailures: 5, afterFailingForMs: 1_000 };

  it('disables at exactly the consecutive-failure limit, not before', () => {
    expect(shouldAutoDisable({ failingSince: null, consecutiveFailures: 4 }, limits, at(0))).toBe(false);
    expect(shouldAutoDisable({ failingSince: null, consecutiveFailures: 5 }, limits, at(0))).toBe(true);
    expect(shouldAutoDisable({ failingSince: null, consecutiveFailures: 6 }, limits, at(0))).toBe(true);
  });

  it('disables at exactly the failing-time limit, not before', () => {
    const health = { failingSince: at(0), consecutiveFailures: 0 };
    expect(shouldAutoDisable(health, limits, at(999))).toBe(false);
    expect(shouldAutoDisable(health, limits, at(1_000))).toBe(true);
    expect(shouldAutoDisable(health, limits, at(5_000))).toBe(true);
  });

  it('never disables a healthy webhook under positive limits, and an Infinity limit never triggers', () => {
    expect(shouldAutoDisable(HEALTHY, limits, at(1_000_000))).toBe(false);
    const never = {
      afterConsecutiveFailures: Number.POSITIVE_INFINITY,
      afterFailingForMs: Number.POSITIVE_INFINITY,
    };
    expect(shouldAutoDisable({ failingSince: at(0), consecutiveFailures: 1_000 }, never, at(1e12))).toBe(
      false,
    );
  });
});

describe('mayRecordAttempt', () => {
  it('records for every state but canceled', () => {
    const states: DeliveryState[] = ['pending', 'succeeded', 'failed', 'canceled'];
    expect(states.map(mayRecordAttempt)).toEqual([true, true, true, false]);
  });
});

describe('holdsLease', () => {
  it('holds only a pending delivery leased under exactly that token', () => {
    expect(holdsLease({ state: 'pending', leaseToken: 'L1' }, 'L1')).toBe(true);
    expect(holdsLease({ state: 'pending', leaseToken: 'L2' }, 'L1')).toBe(false);
    expect(holdsLease({ state: 'pending', leaseToken: null }, 'L1')).toBe(false);
    for (const state of ['succeeded', 'failed', 'canceled'] as const) {
      expect(holdsLease({ state, leaseToken: 'L1' }, 'L1')).toBe(false);
    }
  });

  it('never matches a missing lease, whatever token the caller gives', () => {
    expect(holdsLease({ state: 'pending', leaseToken: null }, '')).toBe(false);
    expect(holdsLease({ state: 'pending', leaseToken: null }, 'null')).toBe(false);
  });
});

describe('deliveryAfterAttempt', () => {
  it('counts the attempt, keeps its status and error, and moves to the transition', () => {
    expect(deliveryAfterAttempt({ attemptCount: 1 }, failedAttempt(0), RETRY)).toEqual({
      attemptCount: 2,
      lastStatus: 503,
      lastError: 'HTTP 503',
      state: 'pending',
      nextAttemptAt: at(60_000),
    });
    expect(deliveryAfterAttempt({ attemptCount: 0 }, okAttempt(0), SUCCEEDED)).toEqual({
      attemptCount: 1,
      lastStatus: 204,
      lastError: null,
      state: 'succeeded',
      nextAttemptAt: null,
    });
    expect(deliveryAfterAttempt({ attemptCount: 4 }, { status: 0, error: 'timeout' }, FAILED)).toEqual({
      attemptCount: 5,
      lastStatus: 0,
      lastError: 'timeout',
      state: 'failed',
      nextAttemptAt: null,
    });
  });
});

describe('assertRedeliverable', () => {
  it('passes for a finished delivery', () => {
    for (const state of ['succeeded', 'failed', 'canceled'] as const) {
      expect(() => assertRedeliverable('d_1', state)).not.toThrow();
    }
  });

  it('throws a ConflictError on the state field for a pending one', () => {
    let thrown: unknown;
    try {
      assertRedeliverable('d_1', 'pending');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConflictError);
    expect(thrown).toMatchObject({ code: 'conflict', field: 'state' });
    expect((thrown as ConflictError).message).toContain('"d_1"');
  });
});

describe('copyWebhook', () => {
  it('copies arrays and dates, so changing the copy never changes the original', () => {
    const original = record();
    const copy = copyWebhook(original);
    expect(copy).toEqual(original);
    expect(copy).not.toBe(original);
    for (const field of [
      'eventTypes',
      'limitEvents',
      'secrets',
      'failingSince',
      'createdAt',
      'updatedAt',
    ] as const) {
      expect(copy[field]).not.toBe(original[field]);
    }
    copy.secrets.push('s3');
    copy.createdAt.setTime(0);
    copy.failingSince?.setTime(0);
    expect(original).toEqual(record());
    expect(Object.isFrozen(copy)).toBe(false);
  });

  it('keeps a null failingSince null', () => {
    expect(copyWebhook(record({ failingSince: null, consecutiveFailures: 0 })).failingSince).toBeNull();
  });
});

describe('freezeWebhook', () => {
  it('freezes the copy and its arrays, and copies the dates', () => {
    const original = record();
    const frozen = freezeWebhook(original);
    expect(frozen).toEqual(original);
    expect(Object.isFrozen(frozen)).toBe(true);
    expect(Object.isFrozen(frozen.eventTypes)).toBe(true);
    expect(Object.isFrozen(frozen.limitEvents)).toBe(true);
    expect(Object.isFrozen(frozen.secrets)).toBe(true);
    expect(frozen.secrets).not.toBe(original.secrets);
    expect(frozen.createdAt).not.toBe(original.createdAt);
    expect(frozen.updatedAt).not.toBe(original.updatedAt);
    expect(frozen.failingSince).not.toBe(original.failingSince);
    // The original stays as it was: not frozen, still writable.
    expect(Object.isFrozen(original)).toBe(false);
    expect(Object.isFrozen(original.secrets)).toBe(false);
    original.secrets.push('s3');
    expect(frozen.secrets).toEqual(['s1', 's2']);
  });
});
