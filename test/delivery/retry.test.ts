import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyOutcome, nextAttemptDelay, parseRetryAfter } from '../../src/delivery/classify.js';
import { defineRetryPolicy, maxAttempts, type RetryPolicy, retryPolicies } from '../../src/delivery/retry.js';
import { ValidationError } from '../../src/errors.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;

const SCHEDULES: Record<keyof typeof retryPolicies, number[]> = {
  pretix: [5 * S, 30 * S, M, 5 * M, 20 * M, H, 4 * H, 6 * H, 12 * H, 12 * H, 24 * H],
  taler: [M, ...Array.from({ length: 24 }, () => H)],
  standard: [5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H],
};

/** Retryable statuses of every class: transport error, 1xx, 3xx, 4xx, 5xx. */
const RETRYABLE = [0, 100, 301, 302, 304, 400, 401, 403, 404, 408, 409, 413, 422, 500, 502, 503, 504, 599];

function issuesOf(fn: () => unknown): { path: (string | number)[]; code: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues.map(({ path, code }) => ({ path, code }));
    throw err;
  }
  return [];
}

describe('built-in policies', () => {
  it('have the documented schedules', () => {
    expect(retryPolicies.pretix.delaysMs).toEqual(SCHEDULES.pretix);
    expect(retryPolicies.taler.delaysMs).toEqual(SCHEDULES.taler);
    expect(retryPolicies.standard.delaysMs).toEqual(SCHEDULES.standard);
    expect(retryPolicies.standard.jitter).toBe(0.1);
    expect(retryPolicies.taler.permanentStatuses).toEqual([400]);
    expect(retryPolicies.pretix.jitter ?? 0).toBe(0);
  });

  it('make 12 (pretix), 26 (taler) and 8 (standard) attempts', () => {
    expect(maxAttempts(retryPolicies.pretix)).toBe(12);
    expect(maxAttempts(retryPolicies.taler)).toBe(26);
    expect(maxAttempts(retryPolicies.standard)).toBe(8);
  });

  it('are frozen', () => {
    expect(Object.isFrozen(retryPolicies)).toBe(true);
    expect(Object.isFrozen(retryPolicies.pretix)).toBe(true);
    expect(Object.isFrozen(retryPolicies.pretix.delaysMs)).toBe(true);
  });
});

describe('classifyOutcome', () => {
  it.each([200, 201, 202, 204, 299])('%i is success', (status) => {
    for (const policy of Object.values(retryPolicies))
      expect(classifyOutcome({ status }, policy)).toBe('success');
  });

  it('410 is gone under every policy', () => {
    for (const policy of Object.values(retryPolicies))
      expect(classifyOutcome({ status: 410 }, policy)).toBe('gone');
  });

  it.each(RETRYABLE)('%i is retryable under pretix and standard', (status) => {
    expect(classifyOutcome({ status }, retryPolicies.pretix)).toBe('retryable');
    expect(classifyOutcome({ status }, retryPolicies.standard)).toBe('retryable');
  });

  it('400 is permanent under taler; every other failure is retryable there', () => {
    expect(classifyOutcome({ status: 400 }, retryPolicies.taler)).toBe('permanent');
    for (const status of RETRYABLE.filter((s) => s !== 400)) {
      expect(classifyOutcome({ status }, retryPolicies.taler)).toBe('retryable');
    }
  });

  it('a transport error or SSRF block (status 0) is retryable', () => {
    const error = Object.assign(new Error('blocked'), { code: 'ssrf_blocked' });
    expect(classifyOutcome({ status: 0, error }, retryPolicies.pretix)).toBe('retryable');
    expect(classifyOutcome({ status: 0, error: new Error('ETIMEDOUT') }, retryPolicies.taler)).toBe(
      'retryable',
    );
  });
});

describe('nextAttemptDelay', () => {
  for (const name of ['pretix', 'taler', 'standard'] as const) {
    describe(name, () => {
      const policy = retryPolicies[name];
      const schedule = SCHEDULES[name];
      const random = () => 0.5; // jitter factor 1 exactly

      it('gives the scheduled gap after each attempt, then null after the last', () => {
        const table = Array.from({ length: schedule.length + 3 }, (_, i) =>
          nextAttemptDelay({ policy, attempt: i + 1, status: 500, random }),
        );
        expect(table).toEqual([...schedule, null, null, null]);
      });

      it.each(RETRYABLE.filter((s) => !(name === 'taler' && s === 400)))(
        'status %i follows the schedule',
        (status) => {
          schedule.forEach((gap, i) => {
            expect(nextAttemptDelay({ policy, attempt: i + 1, status, random })).toBe(gap);
          });
          expect(nextAttemptDelay({ policy, attempt: schedule.length + 1, status, random })).toBeNull();
        },
      );

      it.each([200, 204, 410])('status %i gives null', (status) => {
        for (let attempt = 1; attempt <= schedule.length + 1; attempt++) {
          expect(nextAttemptDelay({ policy, attempt, status, random })).toBeNull();
        }
      });
    });
  }

  it('pretix: exactly 12 attempts, then null', () => {
    const policy = retryPolicies.pretix;
    let attempt = 1;
    let elapsed = 0;
    for (;;) {
      const delay = nextAttemptDelay({ policy, attempt, status: 0 });
      if (delay === null) break;
      elapsed += delay;
      attempt++;
    }
    expect(attempt).toBe(12);
    expect(elapsed).toBe(5 * S + 30 * S + M + 5 * M + 20 * M + H + 4 * H + 6 * H + 12 * H + 12 * H + 24 * H);
  });

  it('taler: 400 is never retried', () => {
    expect(nextAttemptDelay({ policy: retryPolicies.taler, attempt: 1, status: 400 })).toBeNull();
    expect(nextAttemptDelay({ policy: retryPolicies.pretix, attempt: 1, status: 400 })).toBe(5 * S);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects attempt %s', (attempt) => {
    expect(() => nextAttemptDelay({ policy: retryPolicies.pretix, attempt, status: 500 })).toThrow(
      ValidationError,
    );
  });

  describe('jitter', () => {
    const policy = retryPolicies.standard; // ±10 %

    it.each([
      [0, 0.9],
      [0.25, 0.95],
      [0.5, 1],
      [0.75, 1.05],
      [0.999_999, 1.099_999_8], // random() < 1, so the top of the range is approached, not reached
    ])('random() = %s scales the gap by %s', (r, factor) => {
      schedule(policy).forEach((gap, i) => {
        const delay = nextAttemptDelay({ policy, attempt: i + 1, status: 503, random: () => r });
        expect(delay).toBe(Math.round(gap * factor));
      });
    });

    it('property: stays within gap × (1 ± jitter) for any random value and jitter', () => {
      fc.assert(
        fc.property(
          fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.array(fc.integer({ min: 0, max: 10 * 24 * H }), { minLength: 1, maxLength: 20 }),
          fc.nat(),
          (r, jitter, delaysMs, pick) => {
            const p = defineRetryPolicy({ name: 'p', delaysMs, jitter });
            const attempt = (pick % delaysMs.length) + 1;
            const gap = delaysMs[attempt - 1] ?? 0;
            const delay = nextAttemptDelay({ policy: p, attempt, status: 500, random: () => r });
            expect(delay).not.toBeNull();
            expect(delay).toBeGreaterThanOrEqual(Math.floor(gap * (1 - jitter)));
            expect(delay).toBeLessThanOrEqual(Math.ceil(gap * (1 + jitter)));
          },
        ),
      );
    });

    it('uses Math.random by default and stays in bounds', () => {
      for (let i = 0; i < 100; i++) {
        const delay = nextAttemptDelay({ policy, attempt: 2, status: 500 }) ?? -1;
        expect(delay).toBeGreaterThanOrEqual(4.5 * M);
        expect(delay).toBeLessThanOrEqual(5.5 * M);
      }
    });
  });

  describe('Retry-After', () => {
    const pretix = retryPolicies.pretix;
    const now = Date.parse('2025-03-01T12:00:00Z');

    it.each([429, 503])('%i honours delta-seconds instead of the gap', (status) => {
      expect(nextAttemptDelay({ policy: pretix, attempt: 1, status, retryAfterHeader: '120' })).toBe(120 * S);
      expect(nextAttemptDelay({ policy: pretix, attempt: 9, status, retryAfterHeader: ' 60 ' })).toBe(M);
    });

    it.each([429, 503])('%i honours an HTTP-date relative to now', (status) => {
      const at = (ms: number) => new Date(now + ms).toUTCString();
      expect(
        nextAttemptDelay({ policy: pretix, attempt: 1, status, retryAfterHeader: at(90 * S), now }),
      ).toBe(90 * S);
      expect(
        nextAttemptDelay({
          policy: pretix,
          attempt: 1,
          status,
          retryAfterHeader: at(2 * H),
          now: new Date(now),
        }),
      ).toBe(2 * H);
    });

    it('is ignored on other statuses', () => {
      for (const status of [0, 500, 502, 504, 408]) {
        expect(nextAttemptDelay({ policy: pretix, attempt: 1, status, retryAfterHeader: '120' })).toBe(5 * S);
      }
    });

    it('falls back to the schedule when missing or malformed', () => {
      for (const retryAfterHeader of [
        null,
        undefined,
        '',
        'soon',
        '-5',
        '1.5',
        'Tue, 99 Foo 2025 00:00:00 GMT',
      ]) {
        const input = retryAfterHeader === undefined ? {} : { retryAfterHeader };
        expect(nextAttemptDelay({ policy: pretix, attempt: 2, status: 429, now, ...input })).toBe(30 * S);
      }
    });

    it('clamps to [1 s, largest gap] by default', () => {
      expect(nextAttemptDelay({ policy: pretix, attempt: 5, status: 429, retryAfterHeader: '0' })).toBe(S);
      const past = new Date(now - H).toUTCString();
      expect(nextAttemptDelay({ policy: pretix, attempt: 5, status: 503, retryAfterHeader: past, now })).toBe(
        S,
      );
      expect(
        nextAttemptDelay({ policy: pretix, attempt: 1, status: 429, retryAfterHeader: '999999999' }),
      ).toBe(24 * H);
      expect(
        nextAttemptDelay({
          policy: retryPolicies.standard,
          attempt: 1,
          status: 429,
          retryAfterHeader: '86400',
        }),
      ).toBe(10 * H);
      expect(
        nextAttemptDelay({ policy: retryPolicies.taler, attempt: 1, status: 429, retryAfterHeader: '7200' }),
      ).toBe(H);
    });

    it('clamps to the policy’s own bounds', () => {
      const policy = defineRetryPolicy({
        name: 'bounded',
        delaysMs: [10 * S, 10 * S],
        retryAfter: { minMs: 5 * S, maxMs: 30 * S },
      });
      const delay = (h: string) => nextAttemptDelay({ policy, attempt: 1, status: 429, retryAfterHeader: h });
      expect(delay('1')).toBe(5 * S);
      expect(delay('20')).toBe(20 * S);
      expect(delay('3600')).toBe(30 * S);
      const onlyMax = defineRetryPolicy({ name: 'm', delaysMs: [100], retryAfter: { maxMs: 500 } });
      expect(nextAttemptDelay({ policy: onlyMax, attempt: 1, status: 503, retryAfterHeader: '3' })).toBe(500);
    });

    it('is not jittered and never adds attempts', () => {
      const policy = retryPolicies.standard;
      const args = { policy, status: 429, retryAfterHeader: '60', random: () => 0 } as const;
      expect(nextAttemptDelay({ ...args, attempt: 1 })).toBe(M);
      expect(nextAttemptDelay({ ...args, attempt: 8 })).toBeNull();
    });

    it('does not revive a permanent status', () => {
      const policy = defineRetryPolicy({ name: 'p', delaysMs: [S], permanentStatuses: [429] });
      expect(nextAttemptDelay({ policy, attempt: 1, status: 429, retryAfterHeader: '5' })).toBeNull();
    });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('1994-11-06T08:49:00Z');

  it.each([
    ['0', 0],
    ['120', 120 * S],
    ['Sun, 06 Nov 1994 08:49:37 GMT', 37 * S], // IMF-fixdate
    ['Sunday, 06-Nov-94 08:49:37 GMT', 37 * S], // RFC 850
    ['Sun Nov  6 08:49:37 1994', 37 * S], // asctime
    ['Sun, 06 Nov 1994 08:48:00 GMT', 0], // past → 0
    ['Mon, 07 Nov 1994 08:49:00 GMT', 24 * H],
  ])('%j → %i ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([
    null,
    undefined,
    '',
    'soon',
    '-1',
    '1.5',
    '1e3',
    'Sun, 31 Feb 1994 08:49:37 GMT',
    '2025-01-01T00:00:00Z',
  ])('%j → null', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });

  it('defaults now to the clock', () => {
    const in1h = new Date(Date.now() + H).toUTCString();
    const parsed = parseRetryAfter(in1h) ?? 0;
    expect(parsed).toBeGreaterThan(H - 5 * S);
    expect(parsed).toBeLessThanOrEqual(H);
  });
});

describe('defineRetryPolicy', () => {
  it('returns a frozen copy', () => {
    const delaysMs = [1, 2, 3];
    const policy = defineRetryPolicy({ name: 'x', delaysMs, jitter: 0.5, permanentStatuses: [400, 422] });
    delaysMs.push(4);
    expect(policy).toEqual({ name: 'x', delaysMs: [1, 2, 3], jitter: 0.5, permanentStatuses: [400, 422] });
    expect(Object.isFrozen(policy)).toBe(true);
    expect(maxAttempts(policy)).toBe(4);
  });

  it('allows an empty schedule: one attempt, no retry', () => {
    const policy = defineRetryPolicy({ name: 'once', delaysMs: [] });
    expect(maxAttempts(policy)).toBe(1);
    expect(nextAttemptDelay({ policy, attempt: 1, status: 500 })).toBeNull();
  });

  it('allows zero delays (immediate retry)', () => {
    const policy = defineRetryPolicy({ name: 'zero', delaysMs: [0, 0] });
    expect(nextAttemptDelay({ policy, attempt: 2, status: 500 })).toBe(0);
  });

  it('reports every problem with its path', () => {
    const bad = {
      name: ' ',
      delaysMs: [1, -1, Number.POSITIVE_INFINITY, Number.NaN],
      jitter: 1.5,
      permanentStatuses: [400, 204, 410, 99, 400.5],
      retryAfter: { minMs: 10, maxMs: 5 },
    };
    expect(issuesOf(() => defineRetryPolicy(bad))).toEqual([
      { path: ['name'], code: 'invalid_name' },
      { path: ['delaysMs', 1], code: 'invalid_delay' },
      { path: ['delaysMs', 2], code: 'invalid_delay' },
      { path: ['delaysMs', 3], code: 'invalid_delay' },
      { path: ['jitter'], code: 'out_of_range' },
      { path: ['permanentStatuses', 1], code: 'reserved_status' },
      { path: ['permanentStatuses', 2], code: 'reserved_status' },
      { path: ['permanentStatuses', 3], code: 'invalid_status' },
      { path: ['permanentStatuses', 4], code: 'invalid_status' },
      { path: ['retryAfter'], code: 'invalid_range' },
    ]);
  });

  it('rejects non-array and oversized schedules and bad bounds', () => {
    const notArray = { name: 'x', delaysMs: 'soon' } as unknown as RetryPolicy;
    expect(issuesOf(() => defineRetryPolicy(notArray))).toEqual([
      { path: ['delaysMs'], code: 'invalid_type' },
    ]);
    expect(issuesOf(() => defineRetryPolicy({ name: 'x', delaysMs: Array(1001).fill(1) }))).toEqual([
      { path: ['delaysMs'], code: 'too_many' },
    ]);
    expect(
      issuesOf(() =>
        defineRetryPolicy({ name: 'x', delaysMs: [], retryAfter: { minMs: -1, maxMs: Number.NaN } }),
      ),
    ).toEqual([
      { path: ['retryAfter', 'minMs'], code: 'invalid_delay' },
      { path: ['retryAfter', 'maxMs'], code: 'invalid_delay' },
    ]);
  });
});

function schedule(policy: RetryPolicy): readonly number[] {
  return policy.delaysMs;
}
