/**
 * The one bounded cache behind hookline's memo tables (decoded signing keys, parsed target URLs,
 * catalog resolutions, compiled patterns, per-type match buckets) and the memory store's
 * interned error texts and the telemetry's attribute sets.
 *
 * Policy: a `Map` that is emptied when a new key would take it past `max` ("clear when full").
 * Every user caches pure functions of their key over a working set that is normally far below
 * the bound, so the bound only guards memory against unbounded key streams (fuzzed types,
 * thousands of distinct URLs); an LRU's bookkeeping (a delete and re-insert on every hit) would
 * cost the hot path for a case that does not occur in steady state. A hit is one `Map.get`.
 *
 * @module
 */

/**
 * A `Map` with at most `max` entries, emptied when a new key arrives at a full cache.
 * Values must not be `undefined` (`get` returns `undefined` for a miss); `null` is fine.
 *
 * @example
 * ```ts
 * // Bound: 1 000 URLs; reason: a webhook URL repeats on every attempt.
 * const targets = new BoundedCache<string, URL>(1_000);
 * const url = targets.get(raw) ?? targets.set(raw, new URL(raw));
 * ```
 */
export class BoundedCache<K, V> {
  /** Most entries held; a new key at this size empties the cache first. */
  readonly max: number;
  readonly #map = new Map<K, V>();

  /**
   * @param max the bound, a positive integer (no default: each use site states its own and why).
   * @throws {RangeError} when `max` is not a positive integer.
   */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`BoundedCache: max must be a positive integer, got ${max}.`);
    this.max = max;
  }

  /** Number of entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** The value stored for `key`, or `undefined` when there is none. */
  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  /**
   * Stores `value` for `key` and returns it. A new key at a full cache first empties it; a key
   * already held is overwritten in place.
   */
  set(key: K, value: V): V {
    const map = this.#map;
    if (map.size >= this.max && !map.has(key)) map.clear();
    map.set(key, value);
    return value;
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
  }

  /** The entries, oldest first (as a `Map` iterates). */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.#map[Symbol.iterator]();
  }
}
