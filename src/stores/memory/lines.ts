/**
 * The memory store's ordered lines (see `Store.claimDue`): per (scope, webhook, ordering key),
 * the slots of its pending deliveries in position order, and the failed delivery pausing it.
 *
 * Positions only grow (a store-wide sequence taken when a delivery joins the back of its line)
 * except for the one delivery that keeps its place: the line's pausing delivery, redelivered,
 * goes back to the front, before every pending one (they all joined after it). So each line is
 * a queue sorted by position: the head is its first slot (O(1)), a head that finishes leaves in
 * O(1), and a delivery's place is found by binary search. Only a delivery that leaves from the
 * middle (canceled while waiting) costs a splice.
 *
 * @module
 */

/**
 * One ordered line: its pending deliveries' slots, oldest position first, and its pausing
 * delivery.
 *
 * @example
 * ```ts
 * const line = new Line(scopeRef);
 * line.push(slot);
 * line.head(); // slot
 * ```
 */
export class Line {
  /** The pending slots, in position order, from index `#start` on (the ones before are gone). */
  #slots: number[] = [];
  #start = 0;
  /** The slot of the `failed` delivery pausing the line (`pausesLine`), -1 while it is not paused. */
  pauser = -1;

  /**
   * @param scope the line's scope, as a ref into the store's string table (for the outbox stats)
   */
  constructor(readonly scope: number) {}

  /** How many pending deliveries the line holds. */
  get size(): number {
    return this.#slots.length - this.#start;
  }

  /** Whether a failed delivery pauses the line. */
  get paused(): boolean {
    return this.pauser >= 0;
  }

  /** The head's slot (the pending delivery with the lowest position), -1 when none is pending. */
  head(): number {
    return this.#start < this.#slots.length ? (this.#slots[this.#start] as number) : -1;
  }

  /** Adds a slot at the back (its position is the highest of the line). */
  push(slot: number): void {
    this.#slots.push(slot);
  }

  /** Adds a slot at the front (its position is the lowest of the line: the pausing delivery, redelivered). */
  unshift(slot: number): void {
    if (this.#start > 0) this.#slots[--this.#start] = slot;
    else this.#slots.unshift(slot);
  }

  /**
   * How many pending deliveries are before `slot` (0 for the head), -1 when `slot` is not in the
   * line. `positions` are the store's position column.
   */
  rank(slot: number, positions: Float64Array): number {
    const i = this.#find(slot, positions);
    return i < 0 ? -1 : i - this.#start;
  }

  /** Takes `slot` out of the line; returns whether it was the head (false when it was not in it). */
  remove(slot: number, positions: Float64Array): boolean {
    const i = this.#find(slot, positions);
    if (i < 0) return false;
    if (i > this.#start) {
      this.#slots.splice(i, 1);
      return false;
    }
    this.#start++;
    // Drops the gone front once it is half the array: each slot is moved O(1) times on average.
    if (this.#start === this.#slots.length) {
      this.#slots = [];
      this.#start = 0;
    } else if (this.#start > 32 && this.#start * 2 > this.#slots.length) {
      this.#slots = this.#slots.slice(this.#start);
      this.#start = 0;
    }
    return true;
  }

  /** Keeps only the slots for which `keep` holds (in order). */
  filter(keep: (slot: number) => boolean): void {
    this.#slots = this.#slots.slice(this.#start).filter(keep);
    this.#start = 0;
  }

  /** The pending slots, head first. */
  slots(): readonly number[] {
    return this.#slots.slice(this.#start);
  }

  /** The index of `slot` in `#slots` (binary search by position), -1 when it is not there. */
  #find(slot: number, positions: Float64Array): number {
    const position = positions[slot] as number;
    let low = this.#start;
    let high = this.#slots.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((positions[this.#slots[mid] as number] as number) < position) low = mid + 1;
      else high = mid;
    }
    return low < this.#slots.length && this.#slots[low] === slot ? low : -1;
  }
}
