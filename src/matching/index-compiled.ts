import { BoundedCache } from '../util/bounded-cache.js';
import { Bucket } from './bucket.js';
import type { EventCatalog } from './catalog.js';
import { createEntryCompiler, type Entry, entryMatchesType } from './entry.js';
import { insertSorted, removeSorted } from './sorted.js';
import { GlobTrie } from './trie.js';
import type { MatchableWebhook, MatchQuery } from './types.js';

/**
 * Options of {@link createMatchIndex}.
 *
 * @example
 * ```ts
 * const options: MatchIndexOptions = { catalog: pretixCatalog };
 * ```
 */
export interface MatchIndexOptions {
  /**
   * Catalog mode when given: a type resolves to its most specific catalog key and a webhook
   * matches when one of its patterns equals that key. Default `undefined`: glob mode.
   */
  catalog?: EventCatalog | undefined;
}

/**
 * A compiled, incrementally updated index of one scope's webhooks.
 *
 * @example
 * ```ts
 * const index = createMatchIndex<MatchableWebhook>({ catalog: pretixCatalog });
 * index.upsert({ id: 1, enabled: true, eventTypes: ['pretix.event.item.*'], allEvents: true, limitEvents: [] });
 * index.match({ type: 'pretix.event.item.variation.changed', event: 'democon' }); // [webhook 1]
 * ```
 */
export interface MatchIndex<T extends MatchableWebhook> {
  /** `catalog` when created with a catalog, else `glob`. */
  readonly mode: 'catalog' | 'glob';
  /** Number of webhooks held, disabled ones included. */
  readonly size: number;
  /**
   * Adds a webhook or replaces the stored version with the same id. `enabled`, `eventTypes`,
   * `allEvents` and `limitEvents` are read now; changing the object later has no effect until
   * it is upserted again.
   */
  upsert(webhook: T): void;
  /** Removes the webhook with this id; returns whether one was held. */
  remove(id: number): boolean;
  /** The stored webhook with this id. */
  get(id: number): T | undefined;
  /**
   * The enabled webhooks receiving a notification, ordered by id ascending, each at most once,
   * as a new array. Has no observable side effects.
   */
  match(query: MatchQuery): T[];
}

interface CachedType<T extends MatchableWebhook> {
  readonly segments: readonly string[];
  readonly bucket: Bucket<T>;
}

/**
 * Creates a compiled match index for one scope.
 *
 * - Catalog mode (`catalog` given): per catalog key, a bucket of the enabled webhooks
 *   listing that key. A query resolves the type (memoised by the catalog) and reads one bucket.
 * - Glob mode (default): literal patterns in an exact-type map, wildcard patterns in a trie over
 *   `.`-separated segments (`*` one segment, `**` zero or more, `*` alone every type). The
 *   webhooks of each queried type are computed once and kept (up to 10 000 types), and kept
 *   up to date incrementally by `upsert`/`remove`.
 *
 * In both modes a bucket keeps its webhooks in id-sorted arrays (all of them, the `allEvents`
 * ones) plus a membership bitset; the members limited to an event slug are derived once per slug
 * from a scope-wide slug index and then maintained. A query is one or two map lookups plus an
 * array copy or a two-way merge.
 *
 * @example
 * ```ts
 * const index = createMatchIndex<WebhookRecord>(); // glob mode
 * for (const hook of await store.list(scope)) index.upsert(hook);
 * index.match({ type: 'shop.order.paid', event: null });
 * ```
 */
export function createMatchIndex<T extends MatchableWebhook>(options: MatchIndexOptions = {}): MatchIndex<T> {
  const { catalog } = options;
  const entries = new Map<number, Entry<T>>();
  // Dense slot numbers index the buckets' bitsets. While slot order equals id order (ids arrive
  // increasing and no freed slot has been reused), `bySlot` lets a new bucket be built by a sweep.
  const freeSlots: number[] = [];
  const bySlot: (Entry<T> | undefined)[] = [];
  let nextSlot = 0;
  let maxId = Number.NEGATIVE_INFINITY;
  let slotsInIdOrder = true;
  const slotFor = (id: number): number => {
    if (slotsInIdOrder && id > maxId && freeSlots.length * 2 <= nextSlot) {
      maxId = id;
      return nextSlot++;
    }
    slotsInIdOrder = false;
    return freeSlots.pop() ?? nextSlot++;
  };
  const compile = createEntryCompiler<T>(catalog);
  const slugIndex = new Map<string, Entry<T>[]>();
  /** Catalog mode: key -> bucket. Glob mode: concrete type -> cached bucket. */
  const buckets = new Map<string, Bucket<T>>();
  const exact = new Map<string, Entry<T>[]>();
  const trie = new GlobTrie<Entry<T>>();
  // Glob mode: the matching webhooks of each concrete type queried, per index, kept up to date
  // by upsert/remove, so a repeated type costs one map lookup instead of a trie walk and a
  // merge. Bound: 10 000 types; emptied when full. Benchmark: bench/match (hookline index).
  const typeCache = new BoundedCache<string, CachedType<T>>(10_000);

  const addSources = (entry: Entry<T>): void => {
    if (!entry.enabled) return;
    if (!entry.allEvents) {
      for (const slug of entry.slugs) {
        const list = slugIndex.get(slug);
        if (list === undefined) slugIndex.set(slug, [entry]);
        else insertSorted(list, entry);
      }
    }
    if (catalog !== undefined) {
      for (const key of entry.keys) {
        let bucket = buckets.get(key);
        if (bucket === undefined) {
          bucket = Bucket.empty<T>(slugIndex);
          buckets.set(key, bucket);
        }
        bucket.insert(entry);
      }
      return;
    }
    for (const key of entry.keys) {
      const members = exact.get(key);
      if (members === undefined) exact.set(key, [entry]);
      else insertSorted(members, entry);
    }
    for (const segments of entry.globs) trie.add(segments, entry);
  };

  const removeSources = (entry: Entry<T>): void => {
    if (!entry.enabled) return;
    if (!entry.allEvents) {
      for (const slug of entry.slugs) {
        const list = slugIndex.get(slug);
        if (list === undefined) continue;
        removeSorted(list, entry.id);
        if (list.length === 0) slugIndex.delete(slug);
      }
    }
    if (catalog !== undefined) {
      for (const key of entry.keys) {
        const bucket = buckets.get(key);
        if (bucket === undefined) continue;
        bucket.remove(entry);
        if (bucket.size === 0) buckets.delete(key);
      }
      return;
    }
    for (const key of entry.keys) {
      const members = exact.get(key);
      if (members === undefined) continue;
      removeSorted(members, entry.id);
      if (members.length === 0) exact.delete(key);
    }
    for (const segments of entry.globs) trie.delete(segments, entry.id);
  };

  /** Glob mode: brings cached types up to date after `before` became `after`. */
  const refreshCache = (before: Entry<T> | undefined, after: Entry<T> | undefined): void => {
    if (typeCache.size === 0) return;
    const apply = (type: string, cached: CachedType<T>): void => {
      if (entryMatchesType(before, type, cached.segments)) cached.bucket.remove(before);
      if (entryMatchesType(after, type, cached.segments)) cached.bucket.insert(after);
    };
    if ((before?.globs.length ?? 0) === 0 && (after?.globs.length ?? 0) === 0) {
      for (const type of new Set([...(before?.keys ?? []), ...(after?.keys ?? [])])) {
        const cached = typeCache.get(type);
        if (cached !== undefined) apply(type, cached);
      }
      return;
    }
    for (const [type, cached] of typeCache) apply(type, cached);
  };

  const lookupType = (type: string): CachedType<T> => {
    const cached = typeCache.get(type);
    if (cached !== undefined) return cached;
    const segments = type.split('.');
    const lists: (readonly Entry<T>[])[] = [];
    const literal = exact.get(type);
    if (literal !== undefined) lists.push(literal);
    trie.collect(segments, lists);
    const fresh: CachedType<T> = {
      segments,
      bucket: Bucket.fromSortedLists(slugIndex, lists, nextSlot, slotsInIdOrder ? bySlot : null),
    };
    return typeCache.set(type, fresh);
  };

  return {
    mode: catalog === undefined ? 'glob' : 'catalog',
    get size() {
      return entries.size;
    },
    upsert(webhook) {
      const before = entries.get(webhook.id);
      const after = compile(webhook, before?.slot ?? slotFor(webhook.id));
      bySlot[after.slot] = after;
      if (before !== undefined) removeSources(before);
      addSources(after);
      entries.set(webhook.id, after);
      if (catalog === undefined) refreshCache(before, after);
    },
    remove(id) {
      const before = entries.get(id);
      if (before === undefined) return false;
      removeSources(before);
      entries.delete(id);
      freeSlots.push(before.slot);
      bySlot[before.slot] = undefined;
      if (catalog === undefined) refreshCache(before, undefined);
      return true;
    },
    get: (id) => entries.get(id)?.webhook,
    match({ type, event }) {
      if (catalog === undefined) return lookupType(type).bucket.query(event);
      const key = catalog.resolve(type);
      if (key === null) return [];
      return buckets.get(key)?.query(event) ?? [];
    },
  };
}
