import { insertSorted, mergeSorted, removeSorted, unionSorted } from './sorted.js';
import type { MatchableWebhook } from './types.js';

/**
 * A webhook as the index holds it: its event filter snapshotted at upsert (so mutating the
 * webhook object later cannot leave stale entries behind) and a dense `slot` number used for
 * membership bitsets.
 */
export interface Indexed<T extends MatchableWebhook> {
  readonly id: number;
  readonly slot: number;
  readonly webhook: T;
  readonly allEvents: boolean;
  /** `limitEvents` without duplicates. */
  readonly slugs: readonly string[];
}

/** Enabled webhooks with `allEvents: false`, per slug of their `limitEvents`, sorted by id. */
export type SlugIndex<T extends MatchableWebhook> = ReadonlyMap<string, readonly Indexed<T>[]>;

/**
 * The enabled webhooks receiving one resolved key (catalog mode) or one concrete type (glob
 * mode), pre-split for the event filter:
 *
 * - `everyone`: every member, for notifications without an event;
 * - `all`: the `allEvents` members;
 * - `bits`: membership by slot, so the members limited to a slug are the scope-wide list of that
 *   slug filtered by one bit test each; that filtered list is computed on the first query for
 *   the slug and then kept (and updated incrementally) in `bySlug`.
 *
 * A query is thus one array copy or one two-way merge of id-sorted arrays.
 */
export class Bucket<T extends MatchableWebhook> {
  private readonly everyone: T[];
  private readonly all: T[];
  private readonly bySlug = new Map<string, T[]>();
  private bits: Uint32Array;

  private constructor(
    private readonly slugIndex: SlugIndex<T>,
    everyone: T[],
    all: T[],
    bits: Uint32Array,
  ) {
    this.everyone = everyone;
    this.all = all;
    this.bits = bits;
  }

  /** An empty bucket reading per-slug lists from `slugIndex`. */
  static empty<T extends MatchableWebhook>(slugIndex: SlugIndex<T>): Bucket<T> {
    return new Bucket(slugIndex, [], [], new Uint32Array(8));
  }

  /**
   * Builds a bucket from the union of several id-sorted lists (an item may be in several) without
   * sorting. `slotCount` bounds the slots in use. When `bySlot` is given (the index's items by
   * slot, with slot order equal to id order) and the lists are not tiny, the members are marked in
   * the bitset and collected by one sweep over the slots; otherwise by a k-way merge.
   */
  static fromSortedLists<T extends MatchableWebhook>(
    slugIndex: SlugIndex<T>,
    input: readonly (readonly Indexed<T>[])[],
    slotCount: number,
    bySlot: readonly (Indexed<T> | undefined)[] | null,
  ): Bucket<T> {
    let lists = input.filter((l) => l.length > 0);
    let bound = 0;
    for (const list of lists) bound += list.length;
    const bits = new Uint32Array((slotCount >>> 5) + 8);
    const everyone = new Array<T>(bound);
    const all: T[] = [];
    let size = 0;
    if (bySlot !== null && bound * 8 >= slotCount) {
      for (const list of lists) {
        for (const item of list)
          bits[item.slot >>> 5] = (bits[item.slot >>> 5] as number) | (1 << (item.slot & 31));
      }
      for (let word = 0; word < bits.length; word++) {
        const set = bits[word] as number;
        if (set === 0) continue;
        for (let bit = 0; bit < 32; bit++) {
          if ((set & (1 << bit)) === 0) continue;
          const item = bySlot[word * 32 + bit] as Indexed<T>;
          everyone[size++] = item.webhook;
          if (item.allEvents) all.push(item.webhook);
        }
      }
      everyone.length = size;
      return new Bucket(slugIndex, everyone, all, bits);
    }
    // Beyond a handful of lists, pre-merge pairwise so the scan for the smallest head stays short.
    if (lists.length > 8) lists = [unionSorted(lists) as Indexed<T>[]];
    const add = (item: Indexed<T>): void => {
      everyone[size++] = item.webhook;
      if (item.allEvents) all.push(item.webhook);
      const word = item.slot >>> 5;
      bits[word] = (bits[word] as number) | (1 << (item.slot & 31));
    };
    const count = lists.length;
    const heads = new Int32Array(count);
    const ends = Int32Array.from(lists, (l) => l.length);
    for (;;) {
      let next: Indexed<T> | undefined;
      let live = 0;
      for (let k = 0; k < count; k++) {
        const at = heads[k] as number;
        if (at >= (ends[k] as number)) continue;
        live++;
        const head = (lists[k] as readonly Indexed<T>[])[at] as Indexed<T>;
        if (next === undefined || head.id < next.id) next = head;
      }
      if (next === undefined) break;
      if (live === 1) {
        // Only one list left: drain it without comparisons.
        const k = heads.findIndex((at, i) => at < (ends[i] as number));
        const list = lists[k] as readonly Indexed<T>[];
        for (let at = heads[k] as number; at < list.length; at++) add(list[at] as Indexed<T>);
        break;
      }
      for (let k = 0; k < count; k++) {
        const at = heads[k] as number;
        if (at < (ends[k] as number) && (lists[k] as readonly Indexed<T>[])[at] === next) heads[k] = at + 1;
      }
      add(next);
    }
    everyone.length = size;
    return new Bucket(slugIndex, everyone, all, bits);
  }

  /** Number of webhooks in the bucket. */
  get size(): number {
    return this.everyone.length;
  }

  private has(slot: number): boolean {
    return ((this.bits[slot >>> 5] ?? 0) & (1 << (slot & 31))) !== 0;
  }

  /** Adds an item (after removing an older version of the same id with {@link remove}). */
  insert(item: Indexed<T>): void {
    const word = item.slot >>> 5;
    if (word >= this.bits.length) {
      const grown = new Uint32Array(Math.max(word + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[word] = (this.bits[word] ?? 0) | (1 << (item.slot & 31));
    insertSorted(this.everyone, item.webhook);
    if (item.allEvents) {
      insertSorted(this.all, item.webhook);
      return;
    }
    for (const slug of item.slugs) {
      const list = this.bySlug.get(slug);
      if (list !== undefined) insertSorted(list, item.webhook);
    }
  }

  /** Removes an item, given as it was inserted. */
  remove(item: Indexed<T>): void {
    const word = item.slot >>> 5;
    if (word < this.bits.length) this.bits[word] = (this.bits[word] ?? 0) & ~(1 << (item.slot & 31));
    removeSorted(this.everyone, item.id);
    if (item.allEvents) {
      removeSorted(this.all, item.id);
      return;
    }
    for (const slug of item.slugs) {
      const list = this.bySlug.get(slug);
      if (list !== undefined) removeSorted(list, item.id);
    }
  }

  /** The members limited to `slug`, sorted by id (computed once per slug, then maintained). */
  private limitedTo(slug: string): readonly T[] {
    const known = this.bySlug.get(slug);
    if (known !== undefined) return known;
    const list: T[] = [];
    for (const item of this.slugIndex.get(slug) ?? []) if (this.has(item.slot)) list.push(item.webhook);
    this.bySlug.set(slug, list);
    return list;
  }

  /** The webhooks receiving a notification of this event (`null`/`undefined`: no event), as a new array. */
  query(event: string | null | undefined): T[] {
    if (event === null || event === undefined) return this.everyone.slice();
    if (!this.slugIndex.has(event)) return this.all.slice();
    const limited = this.limitedTo(event);
    return limited.length === 0 ? this.all.slice() : mergeSorted(this.all, limited);
  }
}
