/** The rules of stopping retries and of bulk recovery (stores/rules.ts), as pure functions. */
import { describe, expect, it } from 'vitest';
import {
  assertCancelable,
  badRecoverCursor,
  ConflictError,
  inRecoveryRange,
  ValidationError,
} from '../../src/index.js';

describe('assertCancelable', () => {
  it('passes a pending delivery and refuses every finished one with a ConflictError on state', () => {
    expect(() => assertCancelable('d', 'pending')).not.toThrow();
    for (const state of ['succeeded', 'failed', 'canceled'] as const) {
      let error: unknown;
      try {
        assertCancelable('d_1', state);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'conflict', field: 'state' });
      expect((error as Error).message).toContain(state);
    }
  });
});

describe('inRecoveryRange', () => {
  const range = { states: ['failed', 'canceled'] as const, since: 1_000, until: 2_000 };
  it('includes since, excludes until, and only the states asked for', () => {
    expect(inRecoveryRange('failed', 999, { ...range, states: [...range.states] })).toBe(false);
    expect(inRecoveryRange('failed', 1_000, { ...range, states: [...range.states] })).toBe(true);
    expect(inRecoveryRange('canceled', 1_999, { ...range, states: [...range.states] })).toBe(true);
    expect(inRecoveryRange('failed', 2_000, { ...range, states: [...range.states] })).toBe(false);
    expect(inRecoveryRange('succeeded', 1_500, { ...range, states: [...range.states] })).toBe(false);
    expect(inRecoveryRange('pending', 1_500, { ...range, states: [...range.states] })).toBe(false);
    expect(inRecoveryRange('canceled', 1_500, { ...range, states: ['failed'] })).toBe(false);
  });
});

describe('badRecoverCursor', () => {
  it('is a ValidationError on the cursor field', () => {
    const error = badRecoverCursor();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues[0]).toMatchObject({ path: ['cursor'], code: 'invalid_cursor' });
  });
});
