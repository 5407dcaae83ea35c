import { randomUUID } from 'node:crypto';
import { ConflictError, ValidationError } from '../../errors.js';
import type { Attempt, Delivery, HttpMethod, OutgoingRequest, WebhookRecord } from '../../model.js';
import { BoundedCache } from '../../util/bounded-cache.js';
import {
  activityBucketCount,
  assertCancelable,
  assertRedeliverable,
  badRecoverCursor,
  copyWebhook,
  freezeWebhook,
  healthAfterAttempt,
  inRecoveryRange,
  mayRecordAttempt,
} from '../rules.js';
import { DUE_SIGNAL, signalAll } from '../signals.js';
import { byFailingSince, byScope, CountsTotal } from '../stats.js';
import {
  type ActivityBucket,
  type AttemptCounts,
  type ClaimedDelivery,
  type DeliveryLine,
  FAILING_WEBHOOKS_LIMIT,
  type FailingWebhook,
  type NewDelivery,
  type OutboxStats,
  type RecordAttemptInput,
  type RecordAttemptResult,
  type ScopeOutboxStats,
  type SearchDeliveriesInput,
  type SearchDeliveriesResult,
  type Store,
  type StoreSignal,
  type WebhookActivity,
  type WebhookActivityInput,
  type WebhookHealth,
} from '../types.js';
import { type ArenaRef, ByteArena } from './byte-arena.js';
import { type DueEntry, DueQueue } from './due-queue.js';
import { Line } from './lines.js';
import {
  AttemptTable,
  CANCELED,
  DeliveryTable,
  FAILED,
  NO_HEADERS,
  OK,
  PENDING,
  RETRY,
  STATE_NAMES,
  type StateCode,
  StringTable,
  stateCode,
} from './tables.js';

/** Options for {@link memoryStore}. None yet; the object keeps the signature stable. */
export type MemoryStoreOptions = Record<string, never>;

/** A date's own copy, or null: a record and the health handed to a caller never share a Date. */
const copyDate = (d: Date | null): Date | null => (d === null ? null : new Date(d.getTime()));

/**
 * Frozen copies of webhook records for claims (see `freezeWebhook`), made once per version of a
 * record: claims of the same webhook share one snapshot until the record changes (a write
 * replaces the record; a health change by `record` deletes its entry). Copies (`copyWebhook`)
 * are hand-written rather than structuredClone, and built with Object.assign so frozen ones
 * share a hidden class: snapshots are made per webhook version, read copies per read, and
 * snapshots are read on every delivery.
 */
const snapshots = new WeakMap<WebhookRecord, Readonly<WebhookRecord>>();

function snapshot(r: WebhookRecord): Readonly<WebhookRecord> {
  let frozen = snapshots.get(r);
  if (!frozen) {
    frozen = freezeWebhook(r);
    snapshots.set(r, frozen);
  }
  return frozen;
}

/**
 * A plain copy of a header record, frozen, its values passed through `map`; {@link NO_HEADERS}
 * when it has none. Built by adding keys one by one, not by spread: `Object.freeze({ ...h })`
 * gives every copy a hidden class of its own (V8's clone maps take no freeze transition), which
 * costs memory per queued delivery and makes every later read of the headers megamorphic.
 */
function frozenHeaders(
  headers: Readonly<Record<string, string>>,
  map: (value: string) => string,
): Readonly<Record<string, string>> {
  let copy: Record<string, string> | undefined;
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue; // own keys only, as a spread copies
    copy ??= {};
    const value = map(headers[name] as string);
    // `copy.__proto__ = value` would set the prototype, not a header.
    if (name === '__proto__') Object.defineProperty(copy, name, { value, enumerable: true });
    else copy[name] = value;
  }
  return copy === undefined ? NO_HEADERS : Object.freeze(copy);
}

/** Whether `headers` has exactly the own keys `names`, in that order, with the values of `frozen`. */
function sameHeaders(
  headers: Readonly<Record<string, string>>,
  names: readonly string[],
  frozen: Readonly<Record<string, string>>,
): boolean {
  let i = 0;
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    if (name !== names[i] || headers[name] !== frozen[name]) return false;
    i++;
  }
  return i === names.length;
}

/**
 * Shares frozen header records: returns the copy it made last while the headers it is given
 * are the same (names in the same order, values), and a new {@link frozenHeaders} copy
 * otherwise. Request headers are the same for every webhook without a header template
 * (`Content-Type` alone): sharing saved 56 bytes a queued delivery in bench/backlog.
 */
function headerSharer(
  map: (value: string) => string,
): (headers: Readonly<Record<string, string>>) => Readonly<Record<string, string>> {
  let last = NO_HEADERS;
  let names: readonly string[] = [];
  return (headers) => {
    if (sameHeaders(headers, names, last)) return last;
    const copy = frozenHeaders(headers, map);
    if (copy !== NO_HEADERS) {
      last = copy;
      names = Object.keys(copy);
    }
    return copy;
  };
}

/** Most strings an interner holds; when full it forgets them all and starts again. */
const INTERN_MAX_COUNT = 1024;
/** Longest string interned: longer ones are seldom repeated, and looking one up hashes it. */
const INTERN_MAX_LENGTH = 256;

/**
 * Returns one shared string for each short text it sees again, so the attempts that failed the
 * same way hold one error text instead of one each. The worker builds each error text anew
 * (`connect_failed: connect ECONNREFUSED 127.0.0.1:9`: a tree of 7 strings, about 216 bytes);
 * in bench/backlog interning error texts saved 41 MB for 200 000 attempts. Bounded by
 * INTERN_MAX_COUNT strings of at most INTERN_MAX_LENGTH characters.
 */
function interner(): (s: string) => string {
  const strings = new BoundedCache<string, string>(INTERN_MAX_COUNT);
  return (s) => {
    if (s.length > INTERN_MAX_LENGTH) return s;
    return strings.get(s) ?? strings.set(s, s);
  };
}

function page<T>(items: T[], offset: number, limit: number | null): T[] {
  return items.slice(offset, limit === null ? undefined : offset + limit);
}

function duplicateKey(scope: string, key: string): ConflictError {
  return new ConflictError(
    `A webhook with key ${JSON.stringify(key)} already exists in scope ${JSON.stringify(scope)}.`,
    {
      field: 'key',
    },
  );
}

/** A position in the delivery log's order: rows older than (`at`, `slot`) come after it. */
interface LogPosition {
  at: number;
  slot: number;
}

/** A delivery-log cursor: the `createdAt` (epoch ms) and slot of the last row of a page. */
const logCursor = (at: number, slot: number): string => `${at}:${slot}`;

/**
 * The position a cursor of {@link logCursor} names; a `ValidationError` (path `cursor`) for any
 * other string.
 */
function readLogCursor(cursor: string): LogPosition {
  const match = /^(-?\d{1,16}):(\d{1,10})$/.exec(cursor);
  const at = Number(match?.[1]);
  const slot = Number(match?.[2]);
  // The round trip refuses leading zeros and "-0": one position, one cursor.
  if (!match || !Number.isSafeInteger(at) || !Number.isSafeInteger(slot) || logCursor(at, slot) !== cursor) {
    throw new ValidationError([
      {
        path: ['cursor'],
        code: 'invalid_cursor',
        message: 'A delivery-log cursor must be the cursor a previous page of the same store returned.',
      },
    ]);
  }
  return { at, slot };
}

/**
 * A continuous percentile of ascending `sorted` values, interpolated between the two nearest
 * (as PostgreSQL's `percentile_cont`, same arithmetic); `null` for no values.
 */
function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const low = sorted[lower] as number;
  if (lower === position) return low;
  const high = sorted[lower + 1] as number;
  return low + (high - low) * (position - lower);
}

/** Attempts by outcome (`succeeded`, `failed`, `errored`) and their durations: a webhook's or a bucket's. */
class AttemptTally {
  readonly counts = [0, 0, 0];
  readonly durations: number[] = [];

  add(outcome: number, durationMs: number): void {
    this.counts[outcome] = (this.counts[outcome] as number) + 1;
    this.durations.push(durationMs);
  }

  /** The counts as an `AttemptCounts`. */
  outcomes(): AttemptCounts {
    const [succeeded, failed, errored] = this.counts as [number, number, number];
    return { succeeded, failed, errored };
  }

  sorted(): Float64Array {
    return Float64Array.from(this.durations).sort();
  }
}

/** One webhook's attempts for `webhookActivity`: in the window, per bucket (made when used), the newest. */
class WebhookTally extends AttemptTally {
  readonly buckets: (AttemptTally | undefined)[] = [];
  /** The newest attempt's slot in the AttemptTable (latest `startedAt`, then highest id), -1 for none. */
  last = -1;
}

/**
 * An in-memory {@link Store}: the default store, for tests, demos and single-process apps
 * that can lose their webhooks on restart. Nothing is persisted. Ids start at 1.
 *
 * Deliveries and attempts are kept column by column, numbers in typed arrays and request bodies
 * as UTF-8 bytes, mostly outside the JavaScript heap (see `tables.ts`, and the figures of
 * bench/backlog in docs/architecture.md, "The memory store").
 * A request body is kept as UTF-8, so a lone surrogate in it reads back as U+FFFD, the bytes
 * that are sent either way.
 * The delivery log has no index: `searchDeliveries` scans the slots newest first and stops once
 * its page is full (about a millisecond for a page of 50 among 200 000 deliveries; a filter
 * that skips most rows scans further), and `webhookActivity` reads the scope's deliveries and
 * their attempts once per call.
 * Ordered deliveries (webhooks with `ordering: 'fifo'`) keep one queue per line (lines.ts): only
 * a line's head is in the due queue, so claiming ordered deliveries costs what claiming others
 * does, and a head that finishes makes the next one due in O(1).
 *
 * @example
 * ```ts
 * const registry = new WebhookRegistry({ store: memoryStore() });
 * ```
 */
export function memoryStore(_options: MemoryStoreOptions = {}): Store {
  let nextId = 1;
  /** scope → id → record. Maps keep insertion order, which is id order. */
  const scopes = new Map<string, Map<number, WebhookRecord>>();
  const rows = new DeliveryTable();
  const attempts = new AttemptTable();
  const bodies = new ByteArena();
  /** Scopes, event types and slugs, URLs and methods of the deliveries. */
  const strings = new StringTable();
  /** Request headers of the deliveries (frozen, shared while consecutive ones are the same). */
  const headerList: Readonly<Record<string, string>>[] = [NO_HEADERS];
  /** delivery id → slot, in creation order. */
  const slots = new Map<string, number>();
  /** scope → notification id → its deliveries' slots (the slot itself when there is one: most often). */
  const notifications = new Map<string, Map<string, number | number[]>>();
  let nextAttemptId = 1;
  let nextLease = 1;
  /** Makes this store's lease tokens differ from another memory store's. */
  const leaseSalt = `${randomUUID().slice(0, 8)}-`;
  /** scope → version, bumped by every webhook write. */
  const versions = new Map<string, number>();
  const bump = (scope: string) => versions.set(scope, (versions.get(scope) ?? 0) + 1);
  /** When each pending delivery can next be claimed: max(nextAttemptAt, leaseUntil). */
  const dueQueue = new DueQueue<number>();
  let pendingCount = 0;
  const claimableAt = (slot: number): number | null => {
    const at = rows.nextAttemptAt[slot] as number;
    if (rows.state[slot] !== PENDING || Number.isNaN(at)) return null;
    const until = rows.leaseUntil[slot] as number;
    return Number.isNaN(until) ? at : Math.max(at, until);
  };
  /** Puts the delivery's one entry where it can next be claimed, or takes it out. */
  const schedule = (slot: number) => {
    const at = claimableAt(slot);
    const entry = rows.due[slot] as DueEntry<number> | null;
    if (at === null) {
      if (entry !== null) dueQueue.remove(entry);
      rows.due[slot] = null;
    } else if (entry === null) rows.due[slot] = dueQueue.push(slot, at);
    else dueQueue.move(entry, at);
  };
  const intern = interner();
  /** Frozen request headers, shared by consecutive deliveries whose headers are the same. */
  const requestHeaders = headerSharer((value) => value);
  /** The ref of `headers` in headerList: the last entry again while the sharer returns it. */
  const headersRef = (headers: Readonly<Record<string, string>>): number => {
    const frozen = requestHeaders(headers);
    if (frozen === NO_HEADERS) return 0;
    if (frozen !== headerList[headerList.length - 1]) headerList.push(frozen);
    return headerList.length - 1;
  };
  /** Frozen response headers with interned values, shared likewise (and by all empty ones). */
  const responseHeaders = headerSharer(intern);
  const bodyRef: ArenaRef = { chunk: 0, start: 0, bytes: 0, ascii: true };

  const setState = (slot: number, state: StateCode) => {
    const was = rows.state[slot];
    if (was === PENDING && state !== PENDING) pendingCount--;
    if (was !== PENDING && state === PENDING) pendingCount++;
    rows.state[slot] = state;
  };
  /** Ends a lease: no token, no lease time. */
  const unlease = (slot: number) => {
    rows.lease[slot] = 0;
    rows.leaseUntil[slot] = Number.NaN;
  };
  const listeners = new Set<(signal: StoreSignal) => void>();
  const wake = () => {
    for (const listener of listeners) queueMicrotask(() => signalAll([listener], DUE_SIGNAL));
  };

  /**
   * Ordered lines by `lineKey`: the pending deliveries of each (scope, webhook, ordering key) in
   * position order, and the delivery pausing it (see lines.ts). A line is dropped once it holds
   * nothing. Only the head of a line has a `nextAttemptAt` (and so an entry in the due queue),
   * and only while the line is not paused: the others are held (NaN). claimDue then needs no
   * check of its own: it only ever pops heads, and a head under a live lease is queued at its
   * lease's end, so at most one claim per line is alive.
   */
  const lines = new Map<string, Line>();
  /** The next position in a line (store-wide, so emit order across calls is kept). */
  let nextPosition = 1;
  /** Set when a head became due by another's finishing; the write then wakes the watchers once. */
  let promoted = false;
  /** The key of the line of the ordered delivery at `slot`: scope ref, webhook id, ordering key ref. */
  const lineKey = (slot: number): string =>
    `${rows.scope[slot]}\u0000${rows.webhookId[slot]}\u0000${rows.orderingKey[slot]}`;
  const lineOf = (slot: number): Line => {
    const key = lineKey(slot);
    let line = lines.get(key);
    if (line === undefined) {
      line = new Line(rows.scope[slot] as number);
      lines.set(key, line);
    }
    return line;
  };
  /** Drops a line that holds nothing any more. */
  const dropIfEmpty = (key: string, line: Line) => {
    if (line.size === 0 && !line.paused) lines.delete(key);
  };
  /** Makes the line's head due at `at` when it is held and the line not paused. */
  const promote = (line: Line, at: number) => {
    const head = line.head();
    if (head < 0 || line.paused || !Number.isNaN(rows.nextAttemptAt[head] as number)) return;
    rows.nextAttemptAt[head] = at;
    rows.updatedAt[head] = at;
    schedule(head);
    promoted = true;
  };
  /** Wakes the watchers once if a write promoted a head (see `promote`). */
  const wakeIfPromoted = () => {
    if (!promoted) return;
    promoted = false;
    wake();
  };
  /**
   * Puts the ordered delivery at `slot`, just made pending, into its line: at the back with a
   * new position, or, when it is the delivery pausing its line, back at the front with its own
   * (the pause ends). Returns its `nextAttemptAt`: `at` when it is the head of a line that is not
   * paused, else NaN (held).
   */
  const joinLine = (slot: number, at: number): number => {
    const line = lineOf(slot);
    if (rows.pausesLine[slot] === 1) {
      rows.pausesLine[slot] = 0;
      if (line.pauser === slot) line.pauser = -1;
      line.unshift(slot);
      return line.paused ? Number.NaN : at;
    }
    const due = line.size === 0 && !line.paused;
    rows.position[slot] = nextPosition++;
    line.push(slot);
    return due ? at : Number.NaN;
  };
  /**
   * Takes the ordered delivery at `slot`, which just finished (or was canceled), out of its
   * line; with `pause`, it pauses the line. When it was the head, the next one becomes due at `at`.
   */
  const leaveLine = (slot: number, at: number, pause: boolean) => {
    const key = lineKey(slot);
    const line = lines.get(key);
    if (line === undefined) return;
    const wasHead = line.remove(slot, rows.position);
    if (pause) {
      if (line.pauser >= 0 && line.pauser !== slot) rows.pausesLine[line.pauser] = 0;
      line.pauser = slot;
      rows.pausesLine[slot] = 1;
    } else if (wasHead) promote(line, at);
    dropIfEmpty(key, line);
  };
  /** Tells watchers of a webhook change at once, before the write's promise resolves. */
  const webhookChanged = (scope: string, webhookId: number, enabled: boolean | null) => {
    signalAll(listeners, { type: 'webhook', scope, webhookId, enabled });
  };

  const scopeOf = (slot: number): string => strings.text(rows.scope[slot] as number);

  const bodyOf = (slot: number): string =>
    bodies.get(
      rows.bodyChunk[slot] as number,
      rows.bodyStart[slot] as number,
      rows.bodyBytes[slot] as number,
      rows.bodyAscii[slot] === 1,
    );
  const urlOf = (slot: number): string => strings.text(rows.url[slot] as number);
  const methodOf = (slot: number): HttpMethod => strings.text(rows.method[slot] as number) as HttpMethod;
  const headersOf = (slot: number) => headerList[rows.headers[slot] as number] as Record<string, string>;

  /** The request for a claim: frozen, its headers shared, its body read out of the arena. */
  const requestOf = (slot: number): OutgoingRequest =>
    Object.freeze({ url: urlOf(slot), method: methodOf(slot), headers: headersOf(slot), body: bodyOf(slot) });

  /** A `Delivery` with its own dates, around `request`. */
  const toDelivery = (slot: number, request: OutgoingRequest): Delivery => {
    const next = rows.nextAttemptAt[slot] as number;
    const status = rows.lastStatus[slot] as number;
    return {
      id: rows.id[slot] as string,
      scope: scopeOf(slot),
      webhookId: rows.webhookId[slot] as number,
      notificationId: rows.notificationId[slot] as string,
      type: strings.text(rows.type[slot] as number),
      event: strings.value(rows.event[slot] as number),
      request,
      state: STATE_NAMES[rows.state[slot] as number] as Delivery['state'],
      attemptCount: rows.attemptCount[slot] as number,
      nextAttemptAt: Number.isNaN(next) ? null : new Date(next),
      lastStatus: status < 0 ? null : status,
      lastError: rows.lastError[slot] as string | null,
      ordered: rows.ordered[slot] === 1,
      orderingKey: strings.value(rows.orderingKey[slot] as number),
      pausesLine: rows.pausesLine[slot] === 1,
      createdAt: new Date(rows.createdAt[slot] as number),
      updatedAt: new Date(rows.updatedAt[slot] as number),
    };
  };

  /** A delivery for a reader: its own copy of the headers. */
  const publicDelivery = (slot: number): Delivery =>
    toDelivery(slot, {
      url: urlOf(slot),
      method: methodOf(slot),
      headers: { ...headersOf(slot) },
      body: bodyOf(slot),
    });

  /** An attempt with its delivery's id, scope and webhook, its own date and headers. */
  const publicAttempt = (a: number, slot: number): Attempt => {
    const flags = attempts.flags[a] as number;
    return {
      id: attempts.id[a] as number,
      deliveryId: rows.id[slot] as string,
      scope: scopeOf(slot),
      webhookId: rows.webhookId[slot] as number,
      attemptNumber: attempts.attemptNumber[a] as number,
      retry: (flags & RETRY) !== 0,
      startedAt: new Date(attempts.startedAt[a] as number),
      durationMs: attempts.durationMs[a] as number,
      status: attempts.status[a] as number,
      ok: (flags & OK) !== 0,
      error: attempts.error[a] as string | null,
      responseBody: attempts.responseBody[a] as string,
      responseHeaders: { ...attempts.responseHeaders[a] },
    };
  };

  const scopedSlot = (scope: string, id: string): number | undefined => {
    const slot = slots.get(id);
    return slot !== undefined && scopeOf(slot) === scope ? slot : undefined;
  };

  /** A lease's token: unique within this store, which is all a lease token has to be here. */
  const tokenOf = (lease: number): string => `${leaseSalt}${lease}`;

  /**
   * Whether the delivery at `slot` is pending under the lease `leaseToken`: `holdsLease` of
   * stores/rules.ts in this store's codes (lease 0 is no token), so that no delivery object is
   * built and no token string is made for a delivery that is not pending on every record,
   * cancel and release.
   */
  const holds = (slot: number, leaseToken: string): boolean => {
    const lease = rows.lease[slot] as number;
    return rows.state[slot] === PENDING && lease !== 0 && leaseToken === tokenOf(lease);
  };

  const leased = (deliveryId: string, leaseToken: string): number | undefined => {
    const slot = slots.get(deliveryId);
    return slot !== undefined && holds(slot, leaseToken) ? slot : undefined;
  };

  const scopeMap = (scope: string): Map<number, WebhookRecord> => {
    let map = scopes.get(scope);
    if (!map) {
      map = new Map();
      scopes.set(scope, map);
    }
    return map;
  };

  const findByKey = (scope: string, key: string): WebhookRecord | undefined => {
    for (const record of scopes.get(scope)?.values() ?? []) if (record.key === key) return record;
    return undefined;
  };

  /**
   * Starts a new attempt series (redeliver, recover): pending, due at `now`, attemptCount 0, no
   * lease. An ordered delivery joins its line (see `joinLine`): due at `now` only as its head.
   */
  const requeue = (slot: number, now: number) => {
    setState(slot, PENDING);
    rows.attemptCount[slot] = 0;
    rows.nextAttemptAt[slot] = rows.ordered[slot] === 1 ? joinLine(slot, now) : now;
    unlease(slot);
    rows.updatedAt[slot] = now;
    schedule(slot);
  };

  /**
   * Ends a pending delivery as canceled, with `reason` as its last error. An ordered one leaves
   * its line (the next one becomes due when it was the head), unless `inLine` is false: then
   * the caller mends the line itself (cancelPending).
   */
  const cancel = (slot: number, reason: string, now: number, inLine = true) => {
    setState(slot, CANCELED);
    rows.lastError[slot] = reason;
    rows.nextAttemptAt[slot] = Number.NaN;
    unlease(slot);
    rows.updatedAt[slot] = now;
    schedule(slot); // out of the due queue
    if (inLine && rows.ordered[slot] === 1) leaveLine(slot, now, false);
  };

  const record = ({
    deliveryId,
    leaseToken,
    attempt,
    outcome,
    now,
    pauseLine,
  }: RecordAttemptInput): RecordAttemptResult => {
    const slot = slots.get(deliveryId);
    // A canceled delivery never gains an attempt (see Store.recordAttempts).
    if (slot === undefined || !mayRecordAttempt(STATE_NAMES[rows.state[slot] as StateCode]))
      return { applied: false, health: null };
    const error = attempt.error === null ? null : intern(attempt.error);
    const previous = rows.attempts[slot] as number;
    const a = attempts.add();
    attempts.id[a] = nextAttemptId++;
    attempts.attemptNumber[a] = (rows.attemptCount[slot] as number) + 1;
    attempts.flags[a] = (previous >= 0 ? RETRY : 0) | (attempt.ok ? OK : 0);
    attempts.startedAt[a] = attempt.startedAt.getTime();
    attempts.durationMs[a] = attempt.durationMs;
    attempts.status[a] = attempt.status;
    attempts.previous[a] = previous;
    attempts.error[a] = error;
    attempts.responseBody[a] = intern(attempt.responseBody);
    attempts.responseHeaders[a] = responseHeaders(attempt.responseHeaders);
    rows.attempts[slot] = a;
    const current = holds(slot, leaseToken);
    const webhook = scopes.get(scopeOf(slot))?.get(rows.webhookId[slot] as number);
    let health: WebhookHealth | null = null;
    if (webhook) {
      // The record is its own health (it has both fields): healthAfterAttempt returns it as it
      // is when nothing changed, HEALTHY when healthy, and a new object otherwise.
      const after = healthAfterAttempt(webhook, { attempt, transition: outcome, applied: current });
      if (
        after.failingSince !== webhook.failingSince ||
        after.consecutiveFailures !== webhook.consecutiveFailures
      ) {
        // The record gets its own date: `after` goes to the caller.
        webhook.failingSince = copyDate(after.failingSince);
        webhook.consecutiveFailures = after.consecutiveFailures;
        snapshots.delete(webhook); // the next claim sees the new health
      }
      health =
        after === webhook
          ? { failingSince: copyDate(webhook.failingSince), consecutiveFailures: webhook.consecutiveFailures }
          : after;
    }
    if (!current) return { applied: false, health };
    rows.attemptCount[slot] = (rows.attemptCount[slot] as number) + 1;
    rows.lastStatus[slot] = attempt.status;
    rows.lastError[slot] = error;
    setState(slot, stateCode(outcome.state));
    rows.nextAttemptAt[slot] = outcome.state === 'pending' ? outcome.nextAttemptAt.getTime() : Number.NaN;
    unlease(slot);
    rows.updatedAt[slot] = now.getTime();
    schedule(slot);
    // A head that moved back to pending (a retry) keeps its line; one that finished leaves it.
    // Only an enabled webhook's line pauses: a disabled one's lines have ended (cancelPending).
    if (rows.ordered[slot] === 1 && outcome.state !== 'pending')
      leaveLine(
        slot,
        now.getTime(),
        outcome.state === 'failed' && pauseLine === true && webhook?.enabled === true,
      );
    return { applied: true, health };
  };

  /** Whether the row at `slot` comes after `position` in the delivery log's order (newest first): is older. */
  const olderThan = (slot: number, position: LogPosition): boolean => {
    const created = rows.createdAt[slot] as number;
    return created < position.at || (created === position.at && slot < position.slot);
  };

  /**
   * Up to `want` slots of the delivery log for which `matches` holds, newest first (`createdAt`
   * descending, then slot descending), every one older than `bound` when given (`matches` must
   * refuse rows created before `from`, epoch ms). One scan down the slots: it starts at the
   * newest row older than `bound` in the ordered tail (a binary search: there `createdAt` grows
   * with the slot) and stops as soon as no row left can be newer than the `want`-th found (by
   * `newestCreatedAt`) or be created at or after `from`. With a clock that only moves forward
   * a page costs its rows plus the rows its filters skip; rows enqueued with an earlier `now`
   * than rows before them only make the scan go further.
   */
  const scanLog = (
    matches: (slot: number) => boolean,
    want: number,
    bound: LogPosition | null,
    from: number,
  ): number[] => {
    let start = rows.size - 1;
    if (bound !== null) {
      let low = rows.orderedFrom;
      let high = rows.size;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (olderThan(mid, bound)) low = mid + 1;
        else high = mid;
      }
      start = low - 1;
    }
    /** Newest first. Every slot here is greater than the one being looked at. */
    const found: number[] = [];
    for (let slot = start; slot >= 0; slot--) {
      const newest = rows.newestCreatedAt[slot] as number;
      if (newest < from) break;
      const created = rows.createdAt[slot] as number;
      if (found.length === want && (rows.createdAt[found[want - 1] as number] as number) >= newest) break;
      if (!matches(slot)) continue;
      // Older than every found one created no earlier (its slot is lower): it goes after them.
      let i = found.length;
      while (i > 0 && (rows.createdAt[found[i - 1] as number] as number) < created) i--;
      if (i === want) continue;
      found.splice(i, 0, slot);
      if (found.length > want) found.pop();
    }
    return found;
  };

  /**
   * The slots of delivery `id` and of notification `id` of `scope` for which `matches` holds,
   * newest first, at most `want`.
   */
  const idLog = (scope: string, id: string, matches: (slot: number) => boolean, want: number): number[] => {
    const own = scopedSlot(scope, id);
    const candidates = own === undefined ? [] : [own];
    const notification = notifications.get(scope)?.get(id);
    if (notification !== undefined) {
      for (const slot of typeof notification === 'number' ? [notification] : notification)
        if (slot !== own) candidates.push(slot);
    }
    return candidates
      .filter(matches)
      .sort((a, b) => (rows.createdAt[b] as number) - (rows.createdAt[a] as number) || b - a)
      .slice(0, want);
  };

  const searchDeliveries = async ({
    scope,
    webhookId,
    states,
    types,
    since,
    until,
    id,
    cursor,
    limit,
  }: SearchDeliveriesInput): Promise<SearchDeliveriesResult> => {
    const after = cursor === null ? null : readLogCursor(cursor);
    const scopeRef = strings.find(scope);
    if (scopeRef < 0) return { items: [], cursor: null };
    // One bit per state code; states no delivery can have match nothing.
    let stateMask = 0b1111;
    if (states !== null) {
      stateMask = 0;
      for (const state of states) {
        const code = STATE_NAMES.indexOf(state);
        if (code >= 0) stateMask |= 1 << code;
      }
    }
    // Types no delivery ever had are not in the string table (-1), and match nothing.
    const typeRefs = types === null ? null : new Set(types.map((t) => strings.find(t)));
    const from = since === null ? Number.NEGATIVE_INFINITY : since.getTime();
    const to = until === null ? Number.POSITIVE_INFINITY : until.getTime();
    const matches = (slot: number): boolean => {
      if (rows.scope[slot] !== scopeRef) return false;
      if (webhookId !== null && rows.webhookId[slot] !== webhookId) return false;
      if (((stateMask >> (rows.state[slot] as number)) & 1) === 0) return false;
      if (typeRefs !== null && !typeRefs.has(rows.type[slot] as number)) return false;
      const created = rows.createdAt[slot] as number;
      if (created < from || created >= to) return false;
      return after === null || olderThan(slot, after);
    };
    // One row more than the page, to know whether an older one is left.
    const size = Math.max(1, Math.floor(limit));
    let bound = after;
    // Rows created at or after `until` are older than no position (until, 0): the same bound.
    if (until !== null && (bound === null || to < bound.at || (to === bound.at && bound.slot > 0)))
      bound = { at: to, slot: 0 };
    const found = id === null ? scanLog(matches, size + 1, bound, from) : idLog(scope, id, matches, size + 1);
    const items = found.slice(0, size);
    const last = items[items.length - 1];
    return {
      items: items.map(publicDelivery),
      cursor:
        found.length > size && last !== undefined ? logCursor(rows.createdAt[last] as number, last) : null,
    };
  };

  const webhookActivity = async ({
    scope,
    webhookIds,
    since,
    until,
    bucketMs,
  }: WebhookActivityInput): Promise<WebhookActivity[]> => {
    const bucketCount = activityBucketCount({ since, until, bucketMs });
    const from = since.getTime();
    const to = until.getTime();
    const tallies = new Map<number, WebhookTally>();
    for (const webhookId of webhookIds) tallies.set(webhookId, new WebhookTally());
    const scopeRef = strings.find(scope);
    // One pass over the scope's deliveries, and the attempts of those of the webhooks asked for.
    for (let slot = 0; scopeRef >= 0 && slot < rows.size; slot++) {
      if (rows.scope[slot] !== scopeRef) continue;
      const tally = tallies.get(rows.webhookId[slot] as number);
      if (tally === undefined) continue;
      for (let a = rows.attempts[slot] as number; a >= 0; a = attempts.previous[a] as number) {
        const started = attempts.startedAt[a] as number;
        const last = tally.last;
        if (
          last < 0 ||
          started > (attempts.startedAt[last] as number) ||
          (started === attempts.startedAt[last] && (attempts.id[a] as number) > (attempts.id[last] as number))
        )
          tally.last = a;
        if (started < from || started >= to) continue;
        const outcome =
          ((attempts.flags[a] as number) & OK) !== 0 ? 0 : (attempts.status[a] as number) > 0 ? 1 : 2;
        const duration = attempts.durationMs[a] as number;
        tally.add(outcome, duration);
        const index = Math.floor((started - from) / bucketMs);
        let bucket = tally.buckets[index];
        if (bucket === undefined) {
          bucket = new AttemptTally();
          tally.buckets[index] = bucket;
        }
        bucket.add(outcome, duration);
      }
    }
    return webhookIds.map((webhookId) => {
      const tally = tallies.get(webhookId) as WebhookTally;
      const durations = tally.sorted();
      const buckets: ActivityBucket[] = [];
      for (let i = 0; i < bucketCount; i++) {
        const bucket = tally.buckets[i];
        buckets.push({
          start: new Date(from + i * bucketMs),
          ...(bucket?.outcomes() ?? { succeeded: 0, failed: 0, errored: 0 }),
          p50DurationMs: bucket === undefined ? null : percentile(bucket.sorted(), 0.5),
        });
      }
      const a = tally.last;
      return {
        webhookId,
        ...tally.outcomes(),
        p50DurationMs: percentile(durations, 0.5),
        p95DurationMs: percentile(durations, 0.95),
        lastAttempt:
          a < 0
            ? null
            : {
                startedAt: new Date(attempts.startedAt[a] as number),
                status: attempts.status[a] as number,
                ok: ((attempts.flags[a] as number) & OK) !== 0,
                durationMs: attempts.durationMs[a] as number,
              },
        buckets,
      };
    });
  };

  /** No transactions here: a `tx` is refused, before anything is stored. */
  const refuseTx = (tx: unknown): void => {
    if (tx !== undefined) {
      throw new ValidationError([
        {
          path: ['tx'],
          code: 'unsupported',
          message: 'The memory store has no transactions; emit without `tx`.',
        },
      ]);
    }
  };

  /** One notification's enqueue (see `Store.enqueue`), synchronous: nothing runs in between. */
  const enqueueNow = (
    scope: string,
    notificationId: string,
    batch: readonly NewDelivery[],
    now: Date,
  ): { created: boolean; deliveryIds: string[] } => {
    let seen = notifications.get(scope);
    if (!seen) {
      seen = new Map();
      notifications.set(scope, seen);
    }
    const existing = seen.get(notificationId);
    if (existing !== undefined) {
      const ids = typeof existing === 'number' ? [existing] : existing;
      return { created: false, deliveryIds: ids.map((slot) => rows.id[slot] as string) };
    }
    for (const d of batch) {
      if (slots.has(d.id))
        throw new ConflictError(`Delivery id ${JSON.stringify(d.id)} is taken.`, { field: 'id' });
    }
    const at = now.getTime();
    const scopeRef = strings.ref(scope);
    const added: number[] = [];
    for (const d of batch) {
      const slot = rows.add();
      rows.id[slot] = d.id;
      rows.notificationId[slot] = notificationId;
      rows.lastError[slot] = d.failure ?? null;
      rows.traceContext[slot] = d.traceContext ?? null;
      rows.due[slot] = null;
      rows.scope[slot] = scopeRef;
      rows.webhookId[slot] = d.webhookId;
      rows.type[slot] = strings.ref(d.type);
      rows.event[slot] = strings.ref(d.event);
      rows.url[slot] = strings.ref(d.request.url);
      rows.method[slot] = strings.ref(d.request.method);
      rows.headers[slot] = headersRef(d.request.headers);
      bodies.put(d.request.body, bodyRef);
      rows.bodyChunk[slot] = bodyRef.chunk;
      rows.bodyStart[slot] = bodyRef.start;
      rows.bodyBytes[slot] = bodyRef.bytes;
      rows.bodyAscii[slot] = bodyRef.ascii ? 1 : 0;
      rows.state[slot] = d.failure ? FAILED : PENDING;
      rows.attemptCount[slot] = 0;
      rows.nextAttemptAt[slot] = d.failure ? Number.NaN : at;
      rows.lastStatus[slot] = -1;
      rows.setCreatedAt(slot, at);
      rows.updatedAt[slot] = at;
      unlease(slot);
      rows.attempts[slot] = -1;
      // The line columns of a new row are 0 (rows are never reused): unordered, no key, no pause.
      if (d.ordered === true) {
        rows.ordered[slot] = 1;
        rows.orderingKey[slot] = strings.ref(d.orderingKey ?? null);
        if (!d.failure) rows.nextAttemptAt[slot] = joinLine(slot, at);
      }
      slots.set(d.id, slot);
      if (rows.state[slot] === PENDING) pendingCount++;
      schedule(slot);
      added.push(slot);
    }
    seen.set(notificationId, added.length === 1 ? (added[0] as number) : added);
    if (batch.length > 0) wake();
    return { created: true, deliveryIds: batch.map((d) => d.id) };
  };

  const store: Store = {
    name: 'memory',

    async insertWebhook({ scope, fields, now }) {
      if (fields.key !== null && findByKey(scope, fields.key)) throw duplicateKey(scope, fields.key);
      // Object.assign into a literal, not spread: records of one shape then share a hidden class.
      const record: WebhookRecord = Object.assign({}, structuredClone(fields), {
        id: nextId++,
        scope,
        disabledReason: fields.enabled ? null : ('manual' as const),
        failingSince: null,
        consecutiveFailures: 0,
        createdAt: new Date(now),
        updatedAt: new Date(now),
      });
      scopeMap(scope).set(record.id, record);
      bump(scope);
      return copyWebhook(record);
    },

    async getWebhook({ scope, id }) {
      const record = scopes.get(scope)?.get(id);
      return record ? copyWebhook(record) : null;
    },

    async getWebhookByKey({ scope, key }) {
      const record = findByKey(scope, key);
      return record ? copyWebhook(record) : null;
    },

    async listWebhooks({ scope, enabled, offset, limit }) {
      const all = [...(scopes.get(scope)?.values() ?? [])].filter(
        (r) => enabled === undefined || r.enabled === enabled,
      );
      const page = all.slice(offset, limit === null ? undefined : offset + limit);
      return { count: all.length, items: page.map(copyWebhook) };
    },

    async updateWebhook({ scope, id, changes, now }) {
      const map = scopes.get(scope);
      const current = map?.get(id);
      if (!map || !current) return null;
      if (changes.key !== undefined && changes.key !== null) {
        const other = findByKey(scope, changes.key);
        if (other && other.id !== id) throw duplicateKey(scope, changes.key);
      }
      const next: WebhookRecord = { ...current, ...structuredClone(changes), updatedAt: new Date(now) };
      map.set(id, next);
      bump(scope);
      webhookChanged(scope, id, next.enabled);
      return copyWebhook(next);
    },

    async deleteWebhook({ scope, id }) {
      const deleted = scopes.get(scope)?.delete(id) ?? false;
      if (deleted) {
        bump(scope);
        webhookChanged(scope, id, null);
      }
      return deleted;
    },

    async webhooksVersion({ scope }) {
      return versions.get(scope) ?? 0;
    },

    async scanWebhooks({ afterId, limit }) {
      // Every scope's records past afterId, lowest ids first (ids are unique across scopes).
      const found: WebhookRecord[] = [];
      for (const map of scopes.values()) for (const r of map.values()) if (r.id > afterId) found.push(r);
      found.sort((a, b) => a.id - b.id);
      return found.slice(0, Math.max(0, Math.floor(limit))).map(copyWebhook);
    },

    async replaceWebhookSecrets({ scope, id, expected, secrets }) {
      const map = scopes.get(scope);
      const current = map?.get(id);
      if (!map || !current) return false;
      const same =
        current.secrets.length === expected.length && current.secrets.every((s, i) => s === expected[i]);
      if (!same) return false;
      // A new record (claims' snapshots are per record), not a user edit: no updatedAt, no version, no signal.
      map.set(id, Object.assign({}, current, { secrets: [...secrets] }));
      return true;
    },

    async enqueue({ scope, notificationId, deliveries, now, tx }) {
      refuseTx(tx);
      return enqueueNow(scope, notificationId, deliveries, now);
    },

    async enqueueMany({ items, now, tx }) {
      refuseTx(tx);
      // Every delivery id is checked before anything is stored: the batch goes in whole or not at all.
      const taken = new Set<string>();
      for (const item of items) {
        if (notifications.get(item.scope)?.has(item.notificationId)) continue;
        for (const d of item.deliveries) {
          if (slots.has(d.id) || taken.has(d.id))
            throw new ConflictError(`Delivery id ${JSON.stringify(d.id)} is taken.`, { field: 'id' });
          taken.add(d.id);
        }
      }
      return items.map((item) => enqueueNow(item.scope, item.notificationId, item.deliveries, now));
    },

    async claimDue({ limit, leaseMs, now }) {
      const claimed: ClaimedDelivery[] = [];
      while (claimed.length < limit) {
        const top = dueQueue.peek();
        if (!top || top.at > now.getTime()) break;
        dueQueue.pop();
        const slot = top.item;
        const leaseUntil = now.getTime() + leaseMs;
        const lease = nextLease++;
        rows.lease[slot] = lease;
        rows.leaseUntil[slot] = leaseUntil;
        schedule(slot);
        const webhook = scopes.get(scopeOf(slot))?.get(rows.webhookId[slot] as number);
        // The headers and the webhook snapshot are shared; the body and dates are this claim's.
        const claim = toDelivery(slot, requestOf(slot)) as ClaimedDelivery;
        claim.leaseToken = tokenOf(lease);
        claim.leaseUntil = new Date(leaseUntil);
        claim.webhook = webhook ? snapshot(webhook) : null;
        claim.traceContext = rows.traceContext[slot] ?? null;
        claimed.push(claim);
      }
      return claimed;
    },

    async recordAttempts({ items }) {
      const results = items.map(record);
      wakeIfPromoted();
      return results;
    },

    async cancelClaimed({ deliveryId, leaseToken, reason, now }) {
      const slot = leased(deliveryId, leaseToken);
      if (slot === undefined) return false;
      cancel(slot, reason, now.getTime());
      wakeIfPromoted();
      return true;
    },

    async releaseClaim({ deliveryId, leaseToken, now }) {
      const slot = leased(deliveryId, leaseToken);
      if (slot === undefined) return false;
      rows.nextAttemptAt[slot] = now.getTime();
      unlease(slot);
      rows.updatedAt[slot] = now.getTime();
      schedule(slot);
      return true;
    },

    searchDeliveries,

    webhookActivity,

    async getDelivery({ scope, id }) {
      const slot = scopedSlot(scope, id);
      return slot === undefined ? null : publicDelivery(slot);
    },

    async listDeliveries({ scope, webhookId, state, offset, limit }) {
      const scopeRef = strings.find(scope);
      const wanted = state === undefined ? -1 : stateCode(state);
      const all: number[] = [];
      for (let slot = rows.size - 1; slot >= 0; slot--) {
        if (rows.scope[slot] !== scopeRef || rows.webhookId[slot] !== webhookId) continue;
        if (wanted >= 0 && rows.state[slot] !== wanted) continue;
        all.push(slot);
      }
      return { count: all.length, items: page(all, offset, limit).map(publicDelivery) };
    },

    async listAttempts({ scope, deliveryId, offset, limit }) {
      const slot = scopedSlot(scope, deliveryId);
      if (slot === undefined) return { count: 0, items: [] };
      const all: number[] = [];
      for (let a = rows.attempts[slot] as number; a >= 0; a = attempts.previous[a] as number) all.push(a); // newest first
      return { count: all.length, items: page(all, offset, limit).map((a) => publicAttempt(a, slot)) };
    },

    async redeliver({ scope, id, now }) {
      const slot = scopedSlot(scope, id);
      if (slot === undefined) return null;
      assertRedeliverable(id, STATE_NAMES[rows.state[slot] as StateCode]);
      requeue(slot, now.getTime());
      wake();
      return publicDelivery(slot);
    },

    async recoverDeliveries({ scope, since, until, webhookId, types, states, now, cursor, limit, dryRun }) {
      // Slots in creation order; the cursor is the next slot to look at (rows never move).
      const start = cursor === null ? 0 : Number(cursor);
      const end = rows.size;
      if (!Number.isSafeInteger(start) || start < 0 || (cursor !== null && cursor !== String(start)))
        throw badRecoverCursor();
      const scopeRef = strings.find(scope);
      if (scopeRef < 0 || start >= end) return { matched: 0, queued: 0, skipped: 0, cursor: null };
      const range = { states, since: since.getTime(), until: (until ?? now).getTime() };
      // Types no delivery ever had are not in the string table (-1), and match nothing.
      const typeRefs = types === null ? null : new Set(types.map((t) => strings.find(t)));
      const hooks = scopes.get(scope);
      const max = Math.max(1, Math.floor(limit));
      const at = now.getTime();
      let matched = 0;
      let queued = 0;
      let skipped = 0;
      let slot = start;
      for (; slot < end && matched < max; slot++) {
        if (rows.scope[slot] !== scopeRef) continue;
        if (webhookId !== null && rows.webhookId[slot] !== webhookId) continue;
        if (typeRefs !== null && !typeRefs.has(rows.type[slot] as number)) continue;
        const state = STATE_NAMES[rows.state[slot] as StateCode];
        if (!inRecoveryRange(state, rows.updatedAt[slot] as number, range)) continue;
        matched++;
        // A disabled or deleted webhook's delivery would only be canceled again: left as it is.
        if (hooks?.get(rows.webhookId[slot] as number)?.enabled !== true) {
          skipped++;
          continue;
        }
        if (dryRun) continue;
        assertRedeliverable(rows.id[slot] as string, state);
        requeue(slot, at);
        queued++;
      }
      if (queued > 0) wake();
      return { matched, queued, skipped, cursor: slot < end ? String(slot) : null };
    },

    async cancelDelivery({ scope, id, reason, now }) {
      const slot = scopedSlot(scope, id);
      if (slot === undefined) return null;
      assertCancelable(id, STATE_NAMES[rows.state[slot] as StateCode]);
      // Also under a live lease: the lease ends, so the claimer's record cannot move it, and
      // a canceled delivery never gains an attempt (rules.ts mayRecordAttempt, holdsLease).
      cancel(slot, reason, now.getTime());
      wakeIfPromoted();
      return publicDelivery(slot);
    },

    async cancelPending({ scope, webhookId, reason, now }) {
      let count = 0;
      const scopeRef = strings.find(scope);
      const at = now.getTime();
      /** The webhook's ordered lines met, mended once after the pass. */
      const touched = new Map<string, Line>();
      const touch = (slot: number) => {
        const key = lineKey(slot);
        const line = lines.get(key);
        if (line !== undefined) touched.set(key, line);
      };
      for (let slot = 0; slot < rows.size; slot++) {
        if (rows.scope[slot] !== scopeRef || rows.webhookId[slot] !== webhookId) continue;
        // The webhook's lines end: no delivery pauses one any more (updatedAt stays its finishing time).
        if (rows.pausesLine[slot] === 1) {
          rows.pausesLine[slot] = 0;
          touch(slot);
        }
        if (rows.state[slot] !== PENDING) continue;
        // Under a live lease it is its claimer's: in flight, or canceled by the worker itself.
        const until = rows.leaseUntil[slot] as number;
        if (!Number.isNaN(until) && until > at) continue;
        cancel(slot, reason, at, false);
        if (rows.ordered[slot] === 1) touch(slot);
        count++;
      }
      for (const [key, line] of touched) {
        line.pauser = -1;
        line.filter((slot) => rows.state[slot] === PENDING);
        // What is left is under a live lease, so its head already is; promote mends the rest.
        promote(line, at);
        dropIfEmpty(key, line);
      }
      wakeIfPromoted();
      return count;
    },

    async deliveryLine({ scope, id }): Promise<DeliveryLine | null> {
      const slot = scopedSlot(scope, id);
      if (slot === undefined || rows.ordered[slot] !== 1 || rows.state[slot] !== PENDING) return null;
      const line = lines.get(lineKey(slot));
      const rank = line?.rank(slot, rows.position) ?? -1;
      if (line === undefined || rank < 0) return null;
      const paused = line.paused;
      const head = line.head();
      return {
        ahead: rank + (paused ? 1 : 0),
        blockedBy: paused ? publicDelivery(line.pauser) : head !== slot ? publicDelivery(head) : null,
      };
    },

    async purgeAttempts({ before }) {
      let count = 0;
      const cutoff = before.getTime();
      for (let slot = 0; slot < rows.size; slot++) {
        // Unlinks the purged attempts from the newest-first chain, keeping the others' order.
        let newest = -1;
        let kept = -1;
        for (let a = rows.attempts[slot] as number; a >= 0; ) {
          const previous = attempts.previous[a] as number;
          if ((attempts.startedAt[a] as number) < cutoff) {
            attempts.release(a);
            count++;
          } else {
            if (kept < 0) newest = a;
            else attempts.previous[kept] = a;
            kept = a;
          }
          a = previous;
        }
        if (kept >= 0) attempts.previous[kept] = -1;
        rows.attempts[slot] = newest;
      }
      return count;
    },

    async watch(listener) {
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },

    async outboxSummary({ now }) {
      // Every entry of the due queue is a pending delivery's one live entry (every change of a
      // delivery reschedules it), so one pass over them counts and finds the next attempt. The
      // pending deliveries held behind their ordered line have none: pending, not due.
      const t = now.getTime();
      let due = 0;
      let next = Number.POSITIVE_INFINITY;
      for (const entry of dueQueue.entries()) {
        if (entry.at <= t) due++;
        next = Math.min(next, rows.nextAttemptAt[entry.item] as number);
      }
      return {
        due,
        pending: pendingCount,
        nextAttemptAt: next === Number.POSITIVE_INFINITY ? null : new Date(next),
      };
    },

    async outboxStats({ now, scope, perScope = false }) {
      const t = now.getTime();
      // The scope's string ref (-1, matching no row, when no delivery was ever of that scope).
      const only = scope === undefined ? null : strings.find(scope);
      const total = new CountsTotal();
      /** scope ref → its counters, with perScope. */
      const byRef = new Map<number, CountsTotal>();
      const partOf = (ref: number): CountsTotal => {
        if (!perScope) return total;
        let part = byRef.get(ref);
        if (part === undefined) {
          part = new CountsTotal();
          byRef.set(ref, part);
        }
        return part;
      };
      // One pass over the due queue: it holds one entry per pending delivery that is not held
      // behind its ordered line (see outboxSummary).
      for (const entry of dueQueue.entries()) {
        const slot = entry.item;
        const ref = rows.scope[slot] as number;
        if (only !== null && ref !== only) continue;
        const part = partOf(ref);
        part.pending++;
        const until = rows.leaseUntil[slot] as number; // NaN (no lease) compares false
        const next = rows.nextAttemptAt[slot] as number;
        if (until > t) part.inFlight++;
        else if (next <= t) {
          part.due++;
          if (next < part.oldestDueMs) part.oldestDueMs = next;
        }
      }
      // Held deliveries (waiting behind their line, in no due queue entry) are pending, neither
      // due nor in flight.
      for (const line of lines.values()) {
        if (only !== null && line.scope !== only) continue;
        let held = 0;
        for (const slot of line.slots()) if (rows.due[slot] === null) held++;
        if (held > 0) partOf(line.scope).pending += held;
      }
      const failing: FailingWebhook[] = [];
      const failingByScope = new Map<string, number>();
      const maps = scope === undefined ? scopes.values() : [scopes.get(scope) ?? new Map()];
      for (const map of maps) {
        for (const w of map.values()) {
          if (w.failingSince === null) continue;
          failing.push({
            scope: w.scope,
            webhookId: w.id,
            url: w.url,
            enabled: w.enabled,
            consecutiveFailures: w.consecutiveFailures,
            failingSince: new Date(w.failingSince),
          });
          failingByScope.set(w.scope, (failingByScope.get(w.scope) ?? 0) + 1);
        }
      }
      failing.sort(byFailingSince);
      let stats: OutboxStats;
      if (perScope) {
        const parts = new Map<string, CountsTotal>();
        for (const [ref, part] of byRef) parts.set(strings.text(ref), part);
        for (const [name, count] of failingByScope) {
          const part = parts.get(name) ?? new CountsTotal();
          part.failingWebhookCount = count;
          parts.set(name, part);
        }
        const list: ScopeOutboxStats[] = [];
        for (const [name, part] of parts) list.push({ scope: name, ...part.counts() });
        list.sort(byScope);
        for (const entry of list) total.add(entry);
        stats = { ...total.counts(), failingWebhooks: [], scopes: list };
      } else {
        total.failingWebhookCount = failing.length;
        stats = { ...total.counts(), failingWebhooks: [] };
      }
      stats.failingWebhooks = failing.slice(0, FAILING_WEBHOOKS_LIMIT);
      return stats;
    },
  };
  return store;
}
