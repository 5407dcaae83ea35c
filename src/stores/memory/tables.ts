/**
 * The memory store's deliveries and attempts, kept column by column: numbers in typed arrays
 * (outside the JavaScript heap), strings in plain arrays, one slot per row.
 *
 * Why not one object per delivery and per attempt, as before: V8 lets the old generation grow to
 * a multiple (up to 4x) of the live heap before a full collection, so the heap a store keeps is
 * paid several times over in peak memory while garbage is promoted (bench/backlog: 100 000
 * deliveries to a receiver that is down, each attempt promoting a socket). A delivery object held
 * 18 fields (168 bytes) plus a request object (56), four boxed times (64), its body (540) and two
 * attempt objects (2 x 112). Here, in bench/backlog, a delivery with two attempts keeps 293 bytes
 * of heap in all (its id and notification id strings and their index entries included) and
 * about 700 bytes outside it (the body, and the columns with their room to grow).
 * Peak RSS in bench/backlog: see docs/architecture.md, "The memory store".
 */

import type { DueEntry } from './due-queue.js';

type Numeric = Float64Array | Int32Array | Uint32Array | Uint8Array;

/**
 * Gives every typed-array column of `table` (its own enumerable fields that are typed arrays)
 * room for `capacity` rows, keeping the rows it has. One loop for every table, so a column added
 * to a table grows with the others without being listed twice.
 */
function growColumns(table: object, capacity: number): void {
  const fields = table as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const column = fields[key];
    if (!ArrayBuffer.isView(column)) continue;
    const next = new (column.constructor as new (length: number) => Numeric)(capacity);
    next.set(column as Numeric);
    fields[key] = next;
  }
}

/** Empty headers (a render failure's request, most failed attempts' response): shared, frozen. */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Rows to start with; tables double as they fill. */
const INITIAL_ROWS = 64;

/** Delivery states as stored (`state` column). */
export const PENDING = 0;
export const SUCCEEDED = 1;
export const FAILED = 2;
export const CANCELED = 3;
export type StateCode = typeof PENDING | typeof SUCCEEDED | typeof FAILED | typeof CANCELED;
export const STATE_NAMES = ['pending', 'succeeded', 'failed', 'canceled'] as const;
export type StateName = (typeof STATE_NAMES)[number];
export const stateCode = (name: StateName): StateCode => STATE_NAMES.indexOf(name) as StateCode;

/**
 * Strings that many rows share (scopes, event types and slugs, URLs, methods), stored once and
 * referred to by number. Index 0 stands for `null`. Entries are never dropped: they are as many
 * as the distinct values the rows hold.
 */
export class StringTable {
  readonly #values: (string | null)[] = [null];
  readonly #index = new Map<string, number>();

  ref(value: string | null): number {
    if (value === null) return 0;
    let i = this.#index.get(value);
    if (i === undefined) {
      i = this.#values.push(value) - 1;
      this.#index.set(value, i);
    }
    return i;
  }

  /** The ref of `value` if some row holds it, else -1 (nothing is added). */
  find(value: string): number {
    return this.#index.get(value) ?? -1;
  }

  value(ref: number): string | null {
    return this.#values[ref] as string | null;
  }

  /** The string at `ref`, which must not be the `null` entry. */
  text(ref: number): string {
    return this.#values[ref] as string;
  }
}

/** Deliveries by slot. Rows are never removed (the memory store keeps every delivery). */
export class DeliveryTable {
  #capacity = INITIAL_ROWS;
  /** Rows in use; the next delivery gets slot `size`. */
  size = 0;

  // Strings, one per row.
  readonly id: string[] = [];
  readonly notificationId: string[] = [];
  readonly lastError: (string | null)[] = [];
  /** The emit's `traceparent` (see `NewDelivery.traceContext`), `null` for none. */
  readonly traceContext: (string | null)[] = [];
  /** The row's entry in the due queue while it is pending (see DueQueue), else `null`. */
  readonly due: (DueEntry<number> | null)[] = [];

  // Numbers. Refs point into the store's StringTable, headers into its header list.
  scope = new Uint32Array(INITIAL_ROWS);
  webhookId = new Float64Array(INITIAL_ROWS);
  type = new Uint32Array(INITIAL_ROWS);
  event = new Uint32Array(INITIAL_ROWS);
  url = new Uint32Array(INITIAL_ROWS);
  method = new Uint32Array(INITIAL_ROWS);
  headers = new Uint32Array(INITIAL_ROWS);
  bodyChunk = new Uint32Array(INITIAL_ROWS);
  bodyStart = new Uint32Array(INITIAL_ROWS);
  bodyBytes = new Uint32Array(INITIAL_ROWS);
  /** 1 when the body is all ASCII (read back as latin1, one byte a character). */
  bodyAscii = new Uint8Array(INITIAL_ROWS);
  state = new Uint8Array(INITIAL_ROWS);
  attemptCount = new Uint32Array(INITIAL_ROWS);
  /** Epoch ms, NaN for `null`. */
  nextAttemptAt = new Float64Array(INITIAL_ROWS);
  /** -1 for `null` (before the first attempt). */
  lastStatus = new Int32Array(INITIAL_ROWS);
  createdAt = new Float64Array(INITIAL_ROWS);
  updatedAt = new Float64Array(INITIAL_ROWS);
  /** The lease's number (its token is the store's salt and this number), 0 for none. */
  lease = new Float64Array(INITIAL_ROWS);
  /** Epoch ms, NaN for `null`. */
  leaseUntil = new Float64Array(INITIAL_ROWS);
  /** The newest attempt's slot in the AttemptTable, -1 for none. */
  attempts = new Int32Array(INITIAL_ROWS);
  /** 1 when the delivery is in an ordered line (`Delivery.ordered`). */
  ordered = new Uint8Array(INITIAL_ROWS);
  /** The line's key (`Delivery.orderingKey`) as a ref into the StringTable, 0 for `null`. */
  orderingKey = new Uint32Array(INITIAL_ROWS);
  /** 1 when the delivery is `failed` and pauses its line (`Delivery.pausesLine`). */
  pausesLine = new Uint8Array(INITIAL_ROWS);
  /**
   * An ordered delivery's place in its line: the store-wide sequence number taken when it
   * joined the back of the line (at enqueue, or at a redelivery), 0 for an unordered one.
   */
  position = new Float64Array(INITIAL_ROWS);
  /**
   * The latest `createdAt` of this row and of every row before it (epoch ms): no row up to this
   * slot was created later. The delivery log (`searchDeliveries`) stops its newest-first scan
   * by it. Set by {@link DeliveryTable.setCreatedAt}.
   */
  newestCreatedAt = new Float64Array(INITIAL_ROWS);
  /**
   * Where the ordered tail of the rows starts: from this slot on, `createdAt` never decreases
   * from one slot to the next. 0 while every row was created no earlier than the one before it
   * (enqueues with a clock that only moves forward); the slot of the latest row created earlier
   * than a row before it otherwise. Set by {@link DeliveryTable.setCreatedAt}.
   */
  orderedFrom = 0;

  /** A new row's slot (its fields still to be set by the caller). */
  add(): number {
    if (this.size === this.#capacity) this.#grow();
    return this.size++;
  }

  /**
   * Sets the `createdAt` of the row just added at `slot` (rows get theirs in slot order, once),
   * keeping `newestCreatedAt` and `orderedFrom`.
   */
  setCreatedAt(slot: number, at: number): void {
    this.createdAt[slot] = at;
    const before = slot === 0 ? Number.NEGATIVE_INFINITY : (this.newestCreatedAt[slot - 1] as number);
    if (at < before) this.orderedFrom = slot;
    this.newestCreatedAt[slot] = Math.max(at, before);
  }

  #grow(): void {
    this.#capacity *= 2;
    growColumns(this, this.#capacity);
  }
}

/** Attempt flags (`flags` column). */
export const RETRY = 1;
export const OK = 2;

/**
 * Attempts by slot, each linked to the one before it of its delivery (`previous`). Purged rows
 * go to a free list and are used again, so purging bounds the table.
 */
export class AttemptTable {
  #capacity = INITIAL_ROWS;
  #size = 0;
  readonly #free: number[] = [];

  readonly error: (string | null)[] = [];
  readonly responseBody: string[] = [];
  readonly responseHeaders: Readonly<Record<string, string>>[] = [];

  id = new Float64Array(INITIAL_ROWS);
  attemptNumber = new Uint32Array(INITIAL_ROWS);
  flags = new Uint8Array(INITIAL_ROWS);
  startedAt = new Float64Array(INITIAL_ROWS);
  durationMs = new Float64Array(INITIAL_ROWS);
  status = new Int32Array(INITIAL_ROWS);
  /** The delivery's attempt before this one, -1 for its oldest. */
  previous = new Int32Array(INITIAL_ROWS);

  /** A slot for a new attempt: a purged one if any, else a new row. */
  add(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#size === this.#capacity) this.#grow();
    return this.#size++;
  }

  /** Gives a purged row back, dropping its strings. */
  release(slot: number): void {
    this.error[slot] = null;
    this.responseBody[slot] = '';
    this.responseHeaders[slot] = NO_HEADERS;
    this.#free.push(slot);
  }

  #grow(): void {
    this.#capacity *= 2;
    growColumns(this, this.#capacity);
  }
}
