import { describe, expect, it } from 'vitest';
import { createId } from '../../src/index.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The 48-bit millisecond time: the first 48 of the 50 bits in the first 10 characters. */
function timeOf(id: string): number {
  const chars = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 11);
  let t = 0;
  for (const c of chars) t = t * 32 + CROCKFORD.indexOf(c);
  return Math.floor(t / 4);
}

describe('createId()', () => {
  it('is the prefix, "_" and 26 Crockford base32 characters', () => {
    for (const prefix of ['msg', 'ntf', 'x']) {
      expect(createId(prefix)).toMatch(new RegExp(`^${prefix}_[${CROCKFORD}]{26}$`));
    }
  });

  it('starts with the time in milliseconds, so ids of later times sort later', () => {
    const at = Date.UTC(2026, 10, 22, 12, 0, 0, 123);
    expect(timeOf(createId('msg', at))).toBe(at);
    expect(timeOf(createId('msg', 0))).toBe(0);
    const ids = [at, at + 1, at + 1000, at + 86_400_000].map((t) => createId('msg', t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('never repeats within one millisecond', () => {
    const ids = new Set(Array.from({ length: 5_000 }, () => createId('msg', 1_700_000_000_000)));
    expect(ids.size).toBe(5_000);
  });

  it('keeps long and non-ASCII prefixes whole', () => {
    const long = 'p'.repeat(40);
    expect(createId(long)).toMatch(new RegExp(`^${long}_[${CROCKFORD}]{26}$`));
    expect(createId('événement')).toMatch(new RegExp(`^événement_[${CROCKFORD}]{26}$`));
    expect(createId('')).toMatch(new RegExp(`^_[${CROCKFORD}]{26}$`));
  });
});
