import type { MatchableWebhook, MatchQuery } from '../../src/matching/index.js';
import { pretixCatalog } from '../../src/matching/index.js';

/** mulberry32: a small seeded PRNG so every run sees the same workload. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <V>(rand: () => number, list: readonly V[]): V => list[Math.floor(rand() * list.length)] as V;
const between = (rand: () => number, lo: number, hi: number): number =>
  lo + Math.floor(rand() * (hi - lo + 1));

/** The pretix exact core types plus concrete subtypes of its wildcard keys. */
export const TYPES: readonly string[] = [
  ...pretixCatalog.keys().filter((k) => !k.endsWith('.*') && !k.endsWith('.deactivated')),
  'pretix.event.order.changed.item',
  'pretix.event.order.changed.price',
  'pretix.event.order.changed.secret',
  'pretix.event.item.added',
  'pretix.event.item.variation.changed',
];

const BROAD = ['*', 'pretix.**', 'pretix.event.**', 'pretix.event.order.**', '**.deleted', 'pretix.*.added'];

/** `x.y.*`-style patterns: the parent of a type with at least three segments, plus `.*`. */
const PARENT_WILDCARDS = [
  ...new Set(TYPES.filter((t) => t.split('.').length >= 3).map((t) => `${t.slice(0, t.lastIndexOf('.'))}.*`)),
];

export const SLUGS: readonly string[] = Array.from(
  { length: 1000 },
  (_, i) => `ev${String(i).padStart(4, '0')}`,
);

/** N webhooks: 90% enabled, 1-4 patterns (70% exact, 20% `x.y.*`, 10% broad), 30% all events else 1-5 slugs. */
export function makeWebhooks(n: number, seed: number): MatchableWebhook[] {
  const rand = prng(seed);
  const hooks: MatchableWebhook[] = [];
  for (let id = 1; id <= n; id++) {
    const eventTypes: string[] = [];
    for (let k = between(rand, 1, 4); k > 0; k--) {
      const r = rand();
      eventTypes.push(
        r < 0.7 ? pick(rand, TYPES) : r < 0.9 ? pick(rand, PARENT_WILDCARDS) : pick(rand, BROAD),
      );
    }
    const allEvents = rand() < 0.3;
    const limitEvents = allEvents ? [] : Array.from({ length: between(rand, 1, 5) }, () => pick(rand, SLUGS));
    hooks.push({ id, enabled: rand() < 0.9, eventTypes, allEvents, limitEvents });
  }
  return hooks;
}

/** Random queries: uniform type, 90% with a random event slug, 10% organizer-level. */
export function makeQueries(n: number, seed: number): MatchQuery[] {
  const rand = prng(seed);
  return Array.from({ length: n }, () => ({
    type: pick(rand, TYPES),
    event: rand() < 0.9 ? pick(rand, SLUGS) : null,
  }));
}
