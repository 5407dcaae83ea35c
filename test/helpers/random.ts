/**
 * A small seeded PRNG (mulberry32) for tests: the same sequence on every run, so a failure can
 * be replayed from its seed.
 *
 * @example
 * ```ts
 * const random = seededRandom(7);
 * random(); // a number in [0, 1)
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
