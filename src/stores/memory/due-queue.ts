/**
 * One queued item: when it is due, a sequence number (equal times come out first queued first)
 * and its place in the heap (`-1` once popped or removed).
 */
export interface DueEntry<T> {
  at: number;
  seq: number;
  index: number;
  readonly item: T;
}

/**
 * A min-heap of (due time, sequence, item) entries: the memory store's index of when each
 * pending delivery can next be claimed. Items are the deliveries' slots in the store's tables,
 * so a pop needs no lookup by id.
 *
 * An entry can be moved ({@link DueQueue.move}) or removed ({@link DueQueue.remove}) in place, so
 * the store keeps one entry per delivery and reschedules it on every claim and attempt. (It used
 * to push a new entry each time and skip the stale ones when they reached the top: every claim
 * left an entry due at its lease's end, two minutes later, and 100 000 failing deliveries held
 * about 200 000 dead entries, some 14 MB of old-generation heap, in bench/backlog.) The store
 * moves or removes the entry on every change of its delivery, so no entry is ever stale.
 */
export class DueQueue<T> {
  #heap: DueEntry<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  /** Queues `item` at `at` in a new entry, which is returned (for {@link move} and {@link remove}). */
  push(item: T, at: number): DueEntry<T> {
    const entry: DueEntry<T> = { at, seq: this.#seq++, index: this.#heap.length, item };
    this.#heap.push(entry);
    this.#up(entry.index);
    return entry;
  }

  /**
   * Moves an entry to `at`, behind the entries already due then (as a push would), or queues it
   * again if it was popped or removed.
   */
  move(entry: DueEntry<T>, at: number): void {
    entry.at = at;
    entry.seq = this.#seq++;
    if (entry.index < 0) {
      entry.index = this.#heap.length;
      this.#heap.push(entry);
      this.#up(entry.index);
    } else {
      this.#down(this.#up(entry.index));
    }
  }

  /** Takes an entry out of the queue; nothing when it is not queued. */
  remove(entry: DueEntry<T>): void {
    const i = entry.index;
    if (i < 0) return;
    entry.index = -1;
    const last = this.#heap.pop() as DueEntry<T>;
    if (last === entry) return;
    this.#put(last, i);
    this.#down(this.#up(i));
  }

  /** The earliest entry, without removing it. */
  peek(): DueEntry<T> | undefined {
    return this.#heap[0];
  }

  pop(): DueEntry<T> | undefined {
    const top = this.#heap[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Every queued entry, in no particular order. */
  entries(): readonly DueEntry<T>[] {
    return this.#heap;
  }

  /** Moves the entry at `i` up to its place; returns where it ends. */
  #up(i: number): number {
    const heap = this.#heap;
    const entry = heap[i] as DueEntry<T>;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent] as DueEntry<T>;
      if (!less(entry, above)) break;
      this.#put(above, i);
      i = parent;
    }
    this.#put(entry, i);
    return i;
  }

  /** Moves the entry at `i` down to its place. */
  #down(i: number): void {
    const heap = this.#heap;
    const entry = heap[i] as DueEntry<T>;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && less(heap[right] as DueEntry<T>, heap[left] as DueEntry<T>)) child = right;
      const below = heap[child] as DueEntry<T>;
      if (!less(below, entry)) break;
      this.#put(below, i);
      i = child;
    }
    this.#put(entry, i);
  }

  #put(entry: DueEntry<T>, i: number): void {
    this.#heap[i] = entry;
    entry.index = i;
  }
}

function less<T>(x: DueEntry<T>, y: DueEntry<T>): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
