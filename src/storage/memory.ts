import { randomUUID } from 'node:crypto';
import { ConflictError, ValidationError } from '../errors.js';
import type { Attempt, Delivery, OutgoingRequest, WebhookRecord } from '../model.js';
import { type DueEntry, DueQueue } from './due-queue.js';
import type {
  ClaimedDelivery,
  RecordAttemptInput,
  RecordAttemptResult,
  Store,
  StoreSignal,
  WebhookHealth,
} from './types.js';

/**
 * A delivery as the store keeps it: times in epoch milliseconds rather than `Date` objects (a
 * `Date` is about 110 bytes of heap, a number field 16), the request frozen at enqueue.
 */
interface StoredDelivery extends Omit<Delivery, 'nextAttemptAt' | 'createdAt' | 'updatedAt'> {
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
  leaseToken: string | null;
  leaseUntil: number | null;
  /**
   * Its newest attempt, which links to the ones before; `null` before the first. Kept on the
   * delivery, not in a map by id, and as a chain rather than an array: a pushed-to array held
   * 17 slots for two attempts (184 bytes a delivery against 16 for the links).
   */
  attempts: StoredAttempt | null;
  /** Its entry in the due queue while it is pending (`null` otherwise): one per delivery. */
  due: DueEntry<StoredDelivery> | null;
}

/**
 * An attempt as the store keeps it: `startedAt` in epoch milliseconds, and only what the
 * delivery does not already say (its id, scope and webhook come from the delivery when the
 * attempt is read). `error`, `responseBody` and header values are interned (see `interner`),
 * and `responseHeaders` is frozen and shared (see `headerSharer`). About 128 bytes an attempt,
 * down from about 420 (bench/backlog, a refused connection: 128 bytes then for the object with
 * three more fields, 216 for the error text's string tree, 56 for an empty headers object).
 */
interface StoredAttempt {
  id: number;
  attemptNumber: number;
  retry: boolean;
  startedAt: number;
  durationMs: number;
  status: number;
  ok: boolean;
  error: string | null;
  responseBody: string;
  responseHeaders: Readonly<Record<string, string>>;
  /** The delivery's attempt before this one, `null` for its oldest. */
  previous: StoredAttempt | null;
}

/** Options for {@link memoryStore}. None yet; the object keeps the signature stable. */
export type MemoryStoreOptions = Record<string, never>;

// Copies are hand-written rather than structuredClone: these run once or more per delivery.
const copyDate = (d: Date | null): Date | null => (d === null ? null : new Date(d.getTime()));

// Object.assign, not spread: spread copies get hidden classes V8 cannot share once frozen (see
// frozenHeaders), and frozen snapshots of webhooks are read on every delivery.
function copyWebhook(r: WebhookRecord): WebhookRecord {
  const copy: WebhookRecord = Object.assign({}, r);
  copy.eventTypes = [...r.eventTypes];
  copy.limitEvents = [...r.limitEvents];
  copy.secrets = [...r.secrets];
  copy.failingSince = copyDate(r.failingSince);
  copy.createdAt = new Date(r.createdAt.getTime());
  copy.updatedAt = new Date(r.updatedAt.getTime());
  return copy;
}

const DUE: StoreSignal = Object.freeze({ type: 'due' });

/** The health of a webhook whose last attempt succeeded: shared, as most records return it. */
const HEALTHY: WebhookHealth = Object.freeze({ failingSince: null, consecutiveFailures: 0 });

/** Frozen copies of webhook records for claims, made once per version of a record. */
const snapshots = new WeakMap<WebhookRecord, WebhookRecord>();

function snapshot(r: WebhookRecord): WebhookRecord {
  let frozen = snapshots.get(r);
  if (!frozen) {
    const copy = copyWebhook(r);
    Object.freeze(copy.eventTypes);
    Object.freeze(copy.limitEvents);
    Object.freeze(copy.secrets);
    frozen = Object.freeze(copy);
    snapshots.set(r, frozen);
  }
  return frozen;
}

/** Empty headers (a render failure's request, most failed attempts' response): shared, frozen. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

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

/** Written by `flat`, so the character read that flattens a string cannot be optimized away. */
let _flatSink = 0;

/**
 * `s`, as one flat string. V8 builds long strings (JSON.stringify's output among them) as trees
 * of pieces; reading a character of one flattens it in place, and the next collection drops
 * the tree. A rendered body of 504 characters took 729 bytes as JSON.stringify left it (4 tree
 * nodes, 5 pieces) and 538 flat: 19 MB for the 100 000 queued deliveries of bench/backlog.
 */
function flat(s: string): string {
  _flatSink ^= s.charCodeAt(0) | 0;
  return s;
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
  const strings = new Map<string, string>();
  return (s) => {
    if (s.length > INTERN_MAX_LENGTH) return s;
    const known = strings.get(s);
    if (known !== undefined) return known;
    if (strings.size >= INTERN_MAX_COUNT) strings.clear();
    strings.set(s, s);
    return s;
  };
}

/** An attempt with its delivery's id, scope and webhook, its own date and headers. */
function publicAttempt(a: StoredAttempt, d: StoredDelivery): Attempt {
  return {
    id: a.id,
    deliveryId: d.id,
    scope: d.scope,
    webhookId: d.webhookId,
    attemptNumber: a.attemptNumber,
    retry: a.retry,
    startedAt: new Date(a.startedAt),
    durationMs: a.durationMs,
    status: a.status,
    ok: a.ok,
    error: a.error,
    responseBody: a.responseBody,
    responseHeaders: { ...a.responseHeaders },
  };
}

/** A `Delivery` with its own dates, around `request` (the stored frozen one, or a copy). */
function toDelivery(d: StoredDelivery, request: OutgoingRequest): Delivery {
  return {
    id: d.id,
    scope: d.scope,
    webhookId: d.webhookId,
    notificationId: d.notificationId,
    type: d.type,
    event: d.event,
    request,
    state: d.state,
    attemptCount: d.attemptCount,
    nextAttemptAt: d.nextAttemptAt === null ? null : new Date(d.nextAttemptAt),
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: new Date(d.createdAt),
    updatedAt: new Date(d.updatedAt),
  };
}

function publicDelivery(stored: StoredDelivery): Delivery {
  const request = stored.request;
  return toDelivery(stored, {
    url: request.url,
    method: request.method,
    headers: { ...request.headers },
    body: request.body,
  });
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

/**
 * An in-memory {@link Store}: the default store, for tests, demos and single-process apps
 * that can lose their webhooks on restart. Nothing is persisted. Ids start at 1.
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
  /** id → delivery, in creation order. */
  const deliveries = new Map<string, StoredDelivery>();
  /** scope → notification id → its delivery ids (the id itself when there is one: most often). */
  const notifications = new Map<string, Map<string, string | string[]>>();
  let nextAttemptId = 1;
  let nextLease = 1;
  /** Makes this store's lease tokens differ from another memory store's. */
  const leaseSalt = `${randomUUID().slice(0, 8)}-`;
  /** scope → version, bumped by every webhook write. */
  const versions = new Map<string, number>();
  const bump = (scope: string) => versions.set(scope, (versions.get(scope) ?? 0) + 1);
  /** When each pending delivery can next be claimed: max(nextAttemptAt, leaseUntil). */
  const dueQueue = new DueQueue<StoredDelivery>();
  let pendingCount = 0;
  const claimableAt = (d: StoredDelivery): number | null => {
    if (d.state !== 'pending' || d.nextAttemptAt === null) return null;
    return Math.max(d.nextAttemptAt, d.leaseUntil ?? 0);
  };
  /** Puts the delivery's one entry where it can next be claimed, or takes it out. */
  const schedule = (d: StoredDelivery) => {
    const at = claimableAt(d);
    if (at === null) {
      if (d.due !== null) dueQueue.remove(d.due);
      d.due = null;
    } else if (d.due === null) d.due = dueQueue.push(d, at);
    else dueQueue.move(d.due, at);
  };
  /** Drops stale entries (deliveries canceled without a reschedule) from the top of the queue. */
  const cleanTop = () => {
    for (let top = dueQueue.peek(); top; top = dueQueue.peek()) {
      if (claimableAt(top.item) === top.at) return top;
      dueQueue.pop();
      top.item.due = null;
    }
    return undefined;
  };
  const intern = interner();
  /** Frozen request headers, shared by consecutive deliveries whose headers are the same. */
  const requestHeaders = headerSharer((value) => value);
  /** Frozen response headers with interned values, shared likewise (and by all empty ones). */
  const responseHeaders = headerSharer(intern);
  const setState = (d: StoredDelivery, state: StoredDelivery['state']) => {
    if (d.state === 'pending' && state !== 'pending') pendingCount--;
    if (d.state !== 'pending' && state === 'pending') pendingCount++;
    d.state = state;
  };
  const listeners = new Set<(signal: StoreSignal) => void>();
  const wake = () => {
    for (const listener of listeners) queueMicrotask(() => listener(DUE));
  };
  /** Tells watchers of a webhook change at once, before the write's promise resolves. */
  const webhookChanged = (scope: string, webhookId: number, enabled: boolean | null) => {
    const signal: StoreSignal = { type: 'webhook', scope, webhookId, enabled };
    for (const listener of listeners) {
      try {
        listener(signal);
      } catch {
        // A listener's failure must not stop the write or the other listeners.
      }
    }
  };

  const scopedDelivery = (scope: string, id: string): StoredDelivery | undefined => {
    const delivery = deliveries.get(id);
    return delivery && delivery.scope === scope ? delivery : undefined;
  };

  const holds = (delivery: StoredDelivery, leaseToken: string): boolean =>
    delivery.state === 'pending' && delivery.leaseToken === leaseToken;

  const leased = (deliveryId: string, leaseToken: string): StoredDelivery | undefined => {
    const delivery = deliveries.get(deliveryId);
    return delivery && holds(delivery, leaseToken) ? delivery : undefined;
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

  const record = ({
    deliveryId,
    leaseToken,
    attempt,
    outcome,
    now,
  }: RecordAttemptInput): RecordAttemptResult => {
    const delivery = deliveries.get(deliveryId);
    // A canceled delivery never gains an attempt (see Store.recordAttempt).
    if (!delivery || delivery.state === 'canceled') return { applied: false, health: null };
    const error = attempt.error === null ? null : intern(attempt.error);
    // Field by field: spreading `attempt` and then adding keys takes V8's slow path, about
    // 7 µs per attempt against 0.2 µs for a literal.
    delivery.attempts = {
      id: nextAttemptId++,
      attemptNumber: delivery.attemptCount + 1,
      retry: delivery.attempts !== null,
      startedAt: attempt.startedAt.getTime(),
      durationMs: attempt.durationMs,
      status: attempt.status,
      ok: attempt.ok,
      error,
      responseBody: intern(attempt.responseBody),
      responseHeaders: responseHeaders(attempt.responseHeaders),
      previous: delivery.attempts,
    };
    const webhook = scopes.get(delivery.scope)?.get(delivery.webhookId);
    let health: WebhookHealth | null = null;
    if (webhook) {
      const failingBefore = webhook.failingSince;
      const failuresBefore = webhook.consecutiveFailures;
      if (attempt.ok) {
        webhook.failingSince = null;
        webhook.consecutiveFailures = 0;
      } else {
        webhook.failingSince ??= new Date(attempt.startedAt);
        if (outcome.state === 'failed' && holds(delivery, leaseToken)) webhook.consecutiveFailures += 1;
      }
      if (failingBefore !== webhook.failingSince || failuresBefore !== webhook.consecutiveFailures) {
        snapshots.delete(webhook); // the next claim sees the new health
      }
      health =
        webhook.failingSince === null && webhook.consecutiveFailures === 0
          ? HEALTHY
          : {
              failingSince: webhook.failingSince && new Date(webhook.failingSince),
              consecutiveFailures: webhook.consecutiveFailures,
            };
    }
    if (!holds(delivery, leaseToken)) return { applied: false, health };
    delivery.attemptCount += 1;
    delivery.lastStatus = attempt.status;
    delivery.lastError = error;
    setState(delivery, outcome.state);
    delivery.nextAttemptAt = outcome.state === 'pending' ? outcome.nextAttemptAt.getTime() : null;
    delivery.leaseToken = null;
    delivery.leaseUntil = null;
    delivery.updatedAt = now.getTime();
    schedule(delivery);
    return { applied: true, health };
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
      return String(versions.get(scope) ?? 0);
    },

    async enqueue({ scope, notificationId, deliveries: batch, now, tx }) {
      if (tx !== undefined) {
        throw new ValidationError([
          {
            path: ['tx'],
            code: 'unsupported',
            message: 'The memory store has no transactions; emit without `tx`.',
          },
        ]);
      }
      let seen = notifications.get(scope);
      if (!seen) {
        seen = new Map();
        notifications.set(scope, seen);
      }
      const existing = seen.get(notificationId);
      if (existing !== undefined) {
        return { created: false, deliveryIds: typeof existing === 'string' ? [existing] : [...existing] };
      }
      for (const d of batch) {
        if (deliveries.has(d.id))
          throw new ConflictError(`Delivery id ${JSON.stringify(d.id)} is taken.`, { field: 'id' });
      }
      for (const d of batch) {
        const stored: StoredDelivery = {
          id: d.id,
          scope,
          webhookId: d.webhookId,
          notificationId,
          // Interned: a fresh string per notification otherwise (32 bytes each in bench/backlog).
          type: intern(d.type),
          event: d.event === null ? null : intern(d.event),
          // Frozen: claims share it rather than copying it per attempt.
          request: Object.freeze({
            url: d.request.url,
            method: d.request.method,
            headers: requestHeaders(d.request.headers),
            body: flat(d.request.body),
          }),
          state: d.failure ? 'failed' : 'pending',
          attemptCount: 0,
          nextAttemptAt: d.failure ? null : now.getTime(),
          lastStatus: null,
          lastError: d.failure ?? null,
          createdAt: now.getTime(),
          updatedAt: now.getTime(),
          leaseToken: null,
          leaseUntil: null,
          attempts: null,
          due: null,
        };
        deliveries.set(d.id, stored);
        if (stored.state === 'pending') pendingCount++;
        schedule(stored);
      }
      const ids = batch.map((d) => d.id);
      seen.set(notificationId, ids.length === 1 ? (ids[0] as string) : ids);
      if (batch.length > 0) wake();
      return { created: true, deliveryIds: ids.length === 1 ? ids : [...ids] };
    },

    async claimDue({ limit, leaseMs, now }) {
      const claimed: ClaimedDelivery[] = [];
      while (claimed.length < limit) {
        const top = cleanTop();
        if (!top || top.at > now.getTime()) break;
        dueQueue.pop();
        const d = top.item;
        const leaseUntil = now.getTime() + leaseMs;
        // Unique within this store, which is all a lease token has to be here.
        const leaseToken = `${leaseSalt}${nextLease++}`;
        d.leaseToken = leaseToken;
        d.leaseUntil = leaseUntil;
        schedule(d);
        const webhook = scopes.get(d.scope)?.get(d.webhookId);
        // The frozen request and webhook snapshot are shared; dates are copies.
        const claim = toDelivery(d, d.request) as ClaimedDelivery;
        claim.leaseToken = leaseToken;
        claim.leaseUntil = new Date(leaseUntil);
        claim.webhook = webhook ? snapshot(webhook) : null;
        claimed.push(claim);
      }
      return claimed;
    },

    async recordAttempts({ items }) {
      return items.map(record);
    },

    async recordAttempt(input) {
      return record(input);
    },

    async cancelClaimed({ deliveryId, leaseToken, reason, now }) {
      const delivery = leased(deliveryId, leaseToken);
      if (!delivery) return false;
      setState(delivery, 'canceled');
      Object.assign(delivery, {
        lastError: reason,
        nextAttemptAt: null,
        leaseToken: null,
        leaseUntil: null,
        updatedAt: now.getTime(),
      });
      return true;
    },

    async releaseClaim({ deliveryId, leaseToken, now }) {
      const delivery = leased(deliveryId, leaseToken);
      if (!delivery) return false;
      Object.assign(delivery, {
        nextAttemptAt: now.getTime(),
        leaseToken: null,
        leaseUntil: null,
        updatedAt: now.getTime(),
      });
      schedule(delivery);
      return true;
    },

    async getDelivery({ scope, id }) {
      const delivery = scopedDelivery(scope, id);
      return delivery ? publicDelivery(delivery) : null;
    },

    async listDeliveries({ scope, webhookId, state, offset, limit }) {
      const all = [...deliveries.values()]
        .filter(
          (d) => d.scope === scope && d.webhookId === webhookId && (state === undefined || d.state === state),
        )
        .reverse();
      return { count: all.length, items: page(all, offset, limit).map(publicDelivery) };
    },

    async listAttempts({ scope, deliveryId, offset, limit }) {
      const delivery = scopedDelivery(scope, deliveryId);
      if (!delivery) return { count: 0, items: [] };
      const all: StoredAttempt[] = [];
      for (let a = delivery.attempts; a !== null; a = a.previous) all.push(a); // newest first
      return { count: all.length, items: page(all, offset, limit).map((a) => publicAttempt(a, delivery)) };
    },

    async redeliver({ scope, id, now }) {
      const delivery = scopedDelivery(scope, id);
      if (!delivery) return null;
      if (delivery.state === 'pending') {
        throw new ConflictError(
          `Delivery ${JSON.stringify(id)} is still pending; it can be redelivered once it has finished.`,
          {
            field: 'state',
          },
        );
      }
      setState(delivery, 'pending');
      Object.assign(delivery, {
        attemptCount: 0,
        nextAttemptAt: now.getTime(),
        leaseToken: null,
        leaseUntil: null,
        updatedAt: now.getTime(),
      });
      schedule(delivery);
      wake();
      return publicDelivery(delivery);
    },

    async cancelPending({ scope, webhookId, reason, now }) {
      let count = 0;
      for (const d of deliveries.values()) {
        if (d.scope !== scope || d.webhookId !== webhookId || d.state !== 'pending') continue;
        // Under a live lease it is its claimer's: in flight, or canceled by the worker itself.
        if (d.leaseUntil !== null && d.leaseUntil > now.getTime()) continue;
        setState(d, 'canceled');
        Object.assign(d, {
          lastError: reason,
          nextAttemptAt: null,
          leaseToken: null,
          leaseUntil: null,
          updatedAt: now.getTime(),
        });
        count++;
      }
      return count;
    },

    async purgeAttempts({ before }) {
      let count = 0;
      const cutoff = before.getTime();
      for (const delivery of deliveries.values()) {
        // Unlinks the purged attempts from the newest-first chain, keeping the others' order.
        let newest: StoredAttempt | null = null;
        let kept: StoredAttempt | null = null;
        for (let a = delivery.attempts; a !== null; a = a.previous) {
          if (a.startedAt < cutoff) {
            count++;
            continue;
          }
          if (kept === null) newest = a;
          else kept.previous = a;
          kept = a;
        }
        if (kept !== null) kept.previous = null;
        delivery.attempts = newest;
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
      let due = 0;
      let next: number | null = null;
      const seen = new Set<string>();
      const top = cleanTop();
      if (top && top.at <= now.getTime()) {
        for (const entry of dueQueue.entries()) {
          if (entry.at > now.getTime() || seen.has(entry.item.id)) continue;
          if (claimableAt(entry.item) === entry.at) {
            seen.add(entry.item.id);
            due++;
          }
        }
      }
      for (const entry of dueQueue.entries()) {
        const at = entry.item.nextAttemptAt;
        if (at !== null && claimableAt(entry.item) === entry.at && (next === null || at < next)) next = at;
      }
      return { due, pending: pendingCount, nextAttemptAt: next === null ? null : new Date(next) };
    },
  };
  return store;
}
