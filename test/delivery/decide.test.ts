import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecidableResult, type DecideInput, decideOutcome } from '../../src/delivery/decide.js';
import { deliver } from '../../src/delivery/deliver.js';
import { defineRetryPolicy, type RetryPolicy, retryPolicies } from '../../src/delivery/retry.js';
import type { Transport } from '../../src/delivery/transport/contract.js';
import { ValidationError } from '../../src/errors.js';

const NOW = new Date('2025-03-01T12:00:00Z');
const half = () => 0.5;

/** A policy with jitter, a permanent status and Retry-After bounds: every branch has something to do. */
const policy: RetryPolicy = defineRetryPolicy({
  name: 'test',
  delaysMs: [1_000, 10_000, 60_000],
  jitter: 0.2,
  permanentStatuses: [400, 422],
  retryAfter: { minMs: 2_000, maxMs: 30_000 },
});

function input(result: DecidableResult, overrides: Partial<DecideInput> = {}): DecideInput {
  return { result, policy, attempt: 1, now: NOW, random: half, ...overrides };
}

const at = (ms: number) => new Date(NOW.getTime() + ms);

describe('decideOutcome', () => {
  it('2xx: succeeded, nothing failed or disabled', () => {
    for (const status of [200, 201, 204, 299]) {
      expect(decideOutcome(input({ status, responseHeaders: {} }))).toEqual({
        classification: 'success',
        transition: { state: 'succeeded' },
        failure: null,
        disable: null,
      });
    }
  });

  it('2xx on the last attempt the policy allows still succeeds', () => {
    const decision = decideOutcome(input({ status: 204, responseHeaders: {} }, { attempt: 4 }));
    expect(decision.transition).toEqual({ state: 'succeeded' });
  });

  it('410: failed as gone, disables the webhook, never retried (even with attempts left)', () => {
    const decision = decideOutcome(input({ status: 410, responseHeaders: { 'retry-after': '5' } }));
    expect(decision).toEqual({
      classification: 'gone',
      transition: { state: 'failed' },
      failure: 'gone',
      disable: 'gone',
    });
  });

  it('a status the policy lists as permanent: failed, no retry, no disable', () => {
    for (const status of [400, 422]) {
      expect(decideOutcome(input({ status, responseHeaders: {} }))).toEqual({
        classification: 'permanent',
        transition: { state: 'failed' },
        failure: 'permanent',
        disable: null,
      });
    }
  });

  it('the same status under a policy that does not list it is retryable', () => {
    const decision = decideOutcome(
      input({ status: 400, responseHeaders: {} }, { policy: retryPolicies.pretix }),
    );
    expect(decision).toEqual({
      classification: 'retryable',
      transition: { state: 'pending', nextAttemptAt: at(5_000) },
      failure: null,
      disable: null,
    });
  });

  it('retryable with attempts left: pending at now + the gap, jittered by random', () => {
    // random 0.5: no jitter; 0: gap × (1 − jitter); 0.75: gap × (1 + jitter / 2).
    expect(decideOutcome(input({ status: 500, responseHeaders: {} })).transition).toEqual({
      state: 'pending',
      nextAttemptAt: at(1_000),
    });
    expect(
      decideOutcome(input({ status: 500, responseHeaders: {} }, { attempt: 2, random: () => 0 })).transition,
    ).toEqual({ state: 'pending', nextAttemptAt: at(8_000) });
    expect(
      decideOutcome(input({ status: 502, responseHeaders: {} }, { attempt: 3, random: () => 0.75 })),
    ).toEqual({
      classification: 'retryable',
      transition: { state: 'pending', nextAttemptAt: at(66_000) },
      failure: null,
      disable: null,
    });
  });

  it('retryable with the schedule used up: failed as exhausted', () => {
    // Three gaps: four attempts in all, so the fourth failing is the end.
    expect(decideOutcome(input({ status: 503, responseHeaders: {} }, { attempt: 4 }))).toEqual({
      classification: 'retryable',
      transition: { state: 'failed' },
      failure: 'exhausted',
      disable: null,
    });
    const single = defineRetryPolicy({ name: 'once', delaysMs: [] });
    expect(decideOutcome(input({ status: 0, responseHeaders: {} }, { policy: single })).failure).toBe(
      'exhausted',
    );
  });

  it('status 0 (transport error): retryable, even under a policy with permanent statuses', () => {
    const decision = decideOutcome(
      input({ status: 0, error: { code: 'timeout' }, responseHeaders: {} }, { random: () => 1 }),
    );
    expect(decision).toEqual({
      classification: 'retryable',
      transition: { state: 'pending', nextAttemptAt: at(1_200) },
      failure: null,
      disable: null,
    });
  });

  it('a redirect keeps its 3xx and is retryable', () => {
    const decision = decideOutcome(input({ status: 302, error: { code: 'redirect' }, responseHeaders: {} }));
    expect(decision.classification).toBe('retryable');
    expect(decision.transition).toEqual({ state: 'pending', nextAttemptAt: at(1_000) });
  });

  it('Retry-After on 429 and 503 replaces the gap, without jitter, within the policy bounds', () => {
    const transitionAfter = (status: number, value: string, attempt = 1) =>
      decideOutcome(
        input({ status, responseHeaders: { 'retry-after': value } }, { attempt, random: () => 0 }),
      ).transition;
    expect(transitionAfter(429, '7')).toEqual({ state: 'pending', nextAttemptAt: at(7_000) });
    expect(transitionAfter(503, '7')).toEqual({ state: 'pending', nextAttemptAt: at(7_000) });
    // Clamped to [minMs, maxMs].
    expect(transitionAfter(429, '0')).toEqual({ state: 'pending', nextAttemptAt: at(2_000) });
    expect(transitionAfter(503, '86400')).toEqual({ state: 'pending', nextAttemptAt: at(30_000) });
    // An HTTP-date is read against `now`.
    expect(transitionAfter(503, 'Sat, 01 Mar 2025 12:00:20 GMT')).toEqual({
      state: 'pending',
      nextAttemptAt: at(20_000),
    });
    // Ignored on other statuses, and when malformed: the jittered gap (random 0: × 0.8).
    expect(transitionAfter(500, '7')).toEqual({ state: 'pending', nextAttemptAt: at(800) });
    expect(transitionAfter(429, 'soon')).toEqual({ state: 'pending', nextAttemptAt: at(800) });
    // Never adds attempts.
    expect(transitionAfter(429, '7', 4)).toEqual({ state: 'failed' });
  });

  it('refuses an attempt number that is not a positive integer, whatever the result', () => {
    for (const attempt of [0, -1, 1.5, Number.NaN]) {
      for (const status of [204, 410, 500]) {
        expect(() => decideOutcome(input({ status, responseHeaders: {} }, { attempt }))).toThrow(
          ValidationError,
        );
      }
    }
  });

  it('is pure: same input, same decision; the input is not changed; random called at most once', () => {
    const statuses = fc.constantFrom(0, 200, 204, 302, 400, 404, 410, 422, 429, 500, 503);
    fc.assert(
      fc.property(
        statuses,
        fc.integer({ min: 1, max: 6 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.constantFrom('0', '3', '120', 'soon', 'Sat, 01 Mar 2025 12:01:00 GMT'), {
          nil: undefined,
        }),
        (status, attempt, r, retryAfter) => {
          const headers: Record<string, string> =
            retryAfter === undefined ? {} : { 'retry-after': retryAfter };
          const result = { status, responseHeaders: headers };
          const now = new Date(NOW.getTime());
          let calls = 0;
          const random = () => {
            calls += 1;
            return r;
          };
          const given = { result, policy, attempt, now, random };
          const snapshot = structuredClone({ result, policy, attempt, now });
          const first = decideOutcome(given);
          const callsOnce = calls;
          const second = decideOutcome(given);
          expect(second).toEqual(first);
          expect(callsOnce).toBeLessThanOrEqual(1);
          expect(structuredClone({ result, policy, attempt, now })).toEqual(snapshot);
          expect(given.now.getTime()).toBe(NOW.getTime());
          // Consistent: failure exactly when failed; disable only for gone.
          expect(first.failure !== null).toBe(first.transition.state === 'failed');
          expect(first.disable === 'gone').toBe(first.classification === 'gone');
        },
      ),
    );
  });

  it("classifies as deliver() does under the same policy (its result's classification)", async () => {
    const cases: { status: number; error?: { code: 'redirect' | 'timeout'; message: string } }[] = [
      { status: 204 },
      { status: 410 },
      { status: 400 },
      { status: 500 },
      { status: 302, error: { code: 'redirect', message: 'redirect' } },
      { status: 0, error: { code: 'timeout', message: 'timed out' } },
    ];
    for (const c of cases) {
      const transport: Transport = {
        name: 'fixed',
        send: async () => ({ headers: {}, body: '', bodyTruncated: false, ...c }),
      };
      const result = await deliver(
        { url: 'https://example.com/hook', method: 'POST', headers: {}, body: '{}' },
        { transport, retryPolicy: policy },
      );
      expect(decideOutcome(input(result)).classification).toBe(result.classification);
    }
  });
});
