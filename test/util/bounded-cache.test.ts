import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/util/bounded-cache.js';

describe('BoundedCache', () => {
  it('returns what was set, undefined for a miss, and keeps null values', () => {
    const cache = new BoundedCache<string, number | null>(3);
    expect(cache.set('a', 1)).toBe(1);
    expect(cache.set('b', null)).toBeNull();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('b')).toBeNull();
    expect(cache.get('c')).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it('empties itself when a new key arrives at a full cache', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.size).toBe(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBe(3);
  });

  it('overwrites a key already held without emptying a full cache', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 10);
    expect([...cache]).toEqual([
      ['a', 10],
      ['b', 2],
    ]);
  });

  it('never holds more than max entries', () => {
    const cache = new BoundedCache<number, number>(10);
    for (let i = 0; i < 1000; i++) {
      cache.set(i, i);
      expect(cache.size).toBeLessThanOrEqual(10);
    }
  });

  it('clear() removes everything', () => {
    const cache = new BoundedCache<string, number>(5);
    cache.set('a', 1);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('a')).toBeUndefined();
  });

  it('refuses a bound that is not a positive integer', () => {
    for (const max of [0, -1, 1.5, Number.NaN]) expect(() => new BoundedCache(max)).toThrow(RangeError);
  });
});
