import type {
  Attempt,
  Delivery,
  DeliveryState,
  OutgoingRequest,
  WebhookFields,
  WebhookRecord,
} from '../model.js';

/**
 * The store contract: what a storage adapter must do for hookline. Every method takes one
 * object argument and is scoped: a method given `scope: 'a'` never reads, changes or reveals
 * anything of scope `'b'`.
 *
 * Promises every adapter keeps (the conformance suite in `hookline/testing/conformance` checks each):
 * - `insertWebhook` assigns a positive integer `id`, strictly greater than every id it assigned
 *   before (across all scopes), and rejects a duplicate non-null `key` in the same scope with a
 *   `ConflictError` (field `key`), also when two inserts race.
 * - reads return copies: mutating a returned record never changes what is stored.
 * - `listWebhooks` orders by `id` ascending and `count` is the total before paging.
 * - `updateWebhook` changes only the fields given, sets `updatedAt`, keeps `id`, `scope` and
 *   `createdAt`, and returns `null` for an id that does not exist in that scope.
 * - `enqueue` is atomic and idempotent per (scope, notification id): all of a notification's
 *   deliveries are stored or none, and a second enqueue of the same id stores nothing.
 * - `claimDue` never hands one delivery to two claimers while its lease is alive, also when
 *   called concurrently; once the lease has expired the delivery can be claimed again.
 * - `recordAttempts` stores each attempt unless the delivery is `canceled` (a canceled delivery
 *   never gains an attempt); it moves the delivery only while the caller's lease token is
 *   still the delivery's current one (a worker whose lease expired and was taken over cannot
 *   overwrite the new owner's outcome).
 * - `cancelPending` leaves deliveries under a live lease to their claimer, which either has
 *   the request in flight (its attempt is recorded) or cancels it with `cancelClaimed`.
 * - `watch`, when a store has it, signals every webhook update and delete (`{ type: 'webhook' }`),
 *   by this process or any other sharing the store, so workers drop claims of a webhook that
 *   was disabled or removed; a watch that cannot keep its promise says `lost`, then `restored`.
 * - lists of deliveries and attempts are newest first.
 *
 * The rules behind these promises (webhook health, lease checks, the "finish a delivery"
 * transitions, frozen snapshots) are written once in `stores/rules.ts`; a JavaScript adapter
 * calls them, a SQL adapter writes them in SQL beside a pointer to them.
 *
 * A third-party adapter (MySQL, DynamoDB, ...) implements this interface and runs
 * `storeConformance` from `hookline/testing/conformance` in its own test suite.
 *
 * @example
 * ```ts
 * const registry = new WebhookRegistry({ store: memoryStore() });
 * ```
 */
export interface Store {
  /** A short name for logs and errors, e.g. `memory` or `postgres`. */
  readonly name: string;

  /** Stores a new webhook and returns it with its assigned `id`. */
  insertWebhook(input: { scope: string; fields: WebhookFields; now: Date }): Promise<WebhookRecord>;

  /** One webhook by id, or `null` when there is none in that scope. */
  getWebhook(input: { scope: string; id: number }): Promise<WebhookRecord | null>;

  /** One webhook by its client-chosen key, or `null`. */
  getWebhookByKey(input: { scope: string; key: string }): Promise<WebhookRecord | null>;

  /**
   * A page of a scope's webhooks ordered by id, and the total count matching the filter.
   * `limit` of `null` means all. `tx`, as for `enqueue`, runs the read inside the host's
   * transaction (stores that allow one transaction at a time, like PGlite, need this when
   * `emit` loads a scope's webhooks inside one); stores without transactions ignore it.
   */
  listWebhooks(input: {
    scope: string;
    enabled?: boolean;
    offset: number;
    limit: number | null;
    tx?: unknown;
  }): Promise<{ count: number; items: WebhookRecord[] }>;

  /**
   * Applies `changes` to one webhook and returns the new record, or `null` when there is no
   * such webhook in that scope. A `key` that another webhook of the scope has is a `ConflictError`.
   */
  updateWebhook(input: {
    scope: string;
    id: number;
    changes: Partial<WebhookFields> & { disabledReason?: WebhookRecord['disabledReason'] };
    now: Date;
  }): Promise<WebhookRecord | null>;

  /**
   * Optional: the scope's webhook version, a non-negative integer (`0` before any write) that
   * grows by one with every insert, update or delete of a webhook of the scope (health updates
   * by `recordAttempts` do not count). Registries compare it before
   * matching, so a webhook written by another process is matched at once. Stores shared by
   * several processes must implement it; without it, a registry keeps its compiled index of a
   * scope until `registry.invalidate()`. `tx` as for `listWebhooks`.
   */
  webhooksVersion?(input: { scope: string; tx?: unknown }): Promise<number>;

  /** Deletes one webhook; returns whether it existed in that scope. Its deliveries stay readable. */
  deleteWebhook(input: { scope: string; id: number }): Promise<boolean>;

  /**
   * Stores a notification and its deliveries in one atomic step, each `pending` and due at
   * `now` (or `failed` at once when it carries a `failure`). When the scope already has a notification with this id, stores nothing and returns
   * `{ created: false }` with the ids of the deliveries stored the first time. `tx` is a
   * store-specific transaction handle (the PostgreSQL store runs the insert on it); a store
   * without transactions rejects it with a `ValidationError`.
   *
   * `webhooksVersion` (only from registries of a store with `enqueueChecksVersion`): the
   * scope's webhook version the deliveries were matched against. When the scope's version is
   * another by now, the store stores nothing and answers `{ created: false, deliveryIds: [],
   * stale: true }`, and the registry matches again; when it is current, the answer carries
   * `stale: false`. A registry that gave a version and gets neither (a wrapper dropped it)
   * reads the version before each emit from then on.
   */
  enqueue(input: {
    scope: string;
    notificationId: string;
    deliveries: NewDelivery[];
    now: Date;
    tx?: unknown;
    webhooksVersion?: number;
  }): Promise<{ created: boolean; deliveryIds: string[]; stale?: boolean }>;

  /**
   * Optional: `true` when {@link Store.enqueue} checks a `webhooksVersion` it is given in the
   * same atomic step (a store that implements {@link Store.webhooksVersion}). A registry then
   * matches an emit against its cached index without reading the version first: one
   * statement per emit instead of two on the PostgreSQL store.
   */
  readonly enqueueChecksVersion?: boolean;

  /**
   * Optional: {@link Store.enqueue} for several notifications in one atomic step (what
   * `registry.emitMany()` uses; without it, emitMany calls `enqueue` once per notification,
   * which is atomic per notification only). The items' (scope, notification id) pairs are
   * distinct. Every new notification is stored with its deliveries, or, when the call rejects,
   * none is; a notification the scope already has stores nothing, as with `enqueue`. Resolves
   * with one result per item, in order, as `enqueue` would give it. `tx` as for `enqueue`.
   *
   * @example
   * ```ts
   * const [first, second] = await store.enqueueMany({ items: [a, b], now: new Date() });
   * ```
   */
  enqueueMany?(input: {
    items: EnqueueItem[];
    now: Date;
    tx?: unknown;
  }): Promise<{ created: boolean; deliveryIds: string[] }[]>;

  /**
   * Claims up to `limit` pending deliveries due at `now` (and not under a live lease), oldest
   * due first, leasing each until `now + leaseMs` under a fresh lease token. Each comes with
   * its webhook as it is now (`null` when it was removed), so the worker needs no extra read.
   *
   * Ordered deliveries (`ordered`) form lines, one per (scope, webhook, `orderingKey`), in
   * emit order (the order `enqueue` stored them; a redelivery joins the back). Only a line's
   * head, its oldest pending delivery, is ever claimed, and only while no other delivery of the
   * line is under a live lease and no failed delivery of the line `pausesLine`: at most one
   * claim per line is alive at any time, also with concurrent claimers; a head waiting for its
   * retry holds its line. A delivery waiting behind its line has `nextAttemptAt` `null`; it
   * gets one when it becomes the head (when the head before it finishes, is canceled, or, on
   * stores with concurrent writers, when a race left its line without a due head, at the latest about a
   * second after; the PostgreSQL store repairs up to 1 000 such lines a second).
   */
  claimDue(input: { limit: number; leaseMs: number; now: Date }): Promise<ClaimedDelivery[]>;

  /**
   * Records attempts of claimed deliveries, the ones that finished together, in as few round
   * trips and commits as the store can. For each item, in input order: the attempt is stored
   * unless the delivery is `canceled`; while `leaseToken` is still current the delivery moves
   * (`succeeded`, `pending` again at `nextAttemptAt`, or `failed`) and its lease is cleared; the
   * webhook's health is updated in the same step (see `healthAfterAttempt` in `stores/rules.ts`:
   * a successful attempt clears `failingSince` and `consecutiveFailures`; a failed one sets
   * `failingSince` when it is null; an outcome of `failed` adds one to `consecutiveFailures`).
   * Each result says whether the delivery moved, and the webhook's health afterwards (`null`
   * when the webhook is gone): after that item, or after the whole batch when several items
   * share a webhook (the memory store gives the former, the PostgreSQL store, which writes the
   * batch in one statement, the latter; the worker's auto-disable check reads either). If it rejects, none or some of the items may have been
   * recorded; each unrecorded delivery stays leased and is retried after its lease.
   *
   * An ordered delivery that moves ends its line's claim. When it finishes (`succeeded`, or
   * `failed` without `pauseLine`), the next delivery of its line becomes the head, due at the
   * item's `now`; `failed` with `pauseLine` sets its `pausesLine` and the line waits (only while its webhook is
   * enabled: a disabled webhook's lines have ended, see {@link Store.cancelPending}). Finishing
   * through {@link Store.cancelClaimed} or {@link Store.cancelDelivery} moves the line on too.
   */
  recordAttempts(input: { items: RecordAttemptInput[] }): Promise<RecordAttemptResult[]>;

  /**
   * How long the workers of this process let a finished attempt wait, when no `recordAttempts`
   * call is running, for others to share its call: one statement and one commit for several
   * (a store where each call is a transaction sets it). Attempts of ordered deliveries never
   * wait; what finishes while a call runs goes into the next call at once. Absent or 0: the
   * next turn.
   */
  readonly recordDelayMs?: number;

  /**
   * Finishes a claimed delivery without an attempt, as `canceled` (its webhook was disabled
   * or removed). Applies only while `leaseToken` is current; returns whether it did.
   */
  cancelClaimed(input: {
    deliveryId: string;
    leaseToken: string;
    reason: string;
    now: Date;
  }): Promise<boolean>;

  /** Gives a claimed delivery back, due at `now`, so another worker can take it at once. */
  releaseClaim(input: { deliveryId: string; leaseToken: string; now: Date }): Promise<boolean>;

  /** One delivery, or `null` when the scope has none with that id. */
  getDelivery(input: { scope: string; id: string }): Promise<Delivery | null>;

  /** A webhook's deliveries, newest first, with the total count. `limit` of `null` means all. */
  listDeliveries(input: {
    scope: string;
    webhookId: number;
    state?: DeliveryState;
    offset: number;
    limit: number | null;
  }): Promise<{ count: number; items: Delivery[] }>;

  /** A delivery's attempts, newest first, with the total count. */
  listAttempts(input: {
    scope: string;
    deliveryId: string;
    offset: number;
    limit: number | null;
  }): Promise<{ count: number; items: Attempt[] }>;

  /**
   * Starts a new attempt series for a finished delivery (`succeeded`, `failed` or `canceled`):
   * `pending`, due at `now`, `attemptCount` 0, same id. Returns `null` when the scope has no
   * such delivery; throws `ConflictError` when it is still pending.
   *
   * An ordered delivery joins the back of its line, as if emitted at `now` (due at `now` only
   * when its line has no other pending delivery, else waiting with `nextAttemptAt` `null`); it
   * never overtakes what is waiting. The one exception is the delivery pausing its line
   * (`pausesLine`): it keeps its place at the head, the pause ends, and it is due at `now`.
   * {@link Store.recoverDeliveries} queues ordered deliveries the same way.
   */
  redeliver(input: { scope: string; id: string; now: Date }): Promise<Delivery | null>;

  /**
   * Cancels every pending delivery of a webhook that is not under a live lease at `now`;
   * returns how many. Its ordered lines end: their paused deliveries stop pausing. Leased ones belong to their claimer: the worker cancels those it still
   * holds when it learns of the change (see {@link Store.watch}), or when it is about to send
   * them, and records the attempt of one already in flight.
   */
  cancelPending(input: { scope: string; webhookId: number; reason: string; now: Date }): Promise<number>;

  /** Deletes attempts that started before `before`; returns how many. */
  purgeAttempts(input: { before: Date }): Promise<number>;

  /**
   * What is left to do: pending deliveries due at `now` and not leased (`due`), all pending
   * ones (`pending`, leased ones included), and the earliest `nextAttemptAt` among pending ones.
   */
  outboxSummary(input: { now: Date }): Promise<{ due: number; pending: number; nextAttemptAt: Date | null }>;

  /**
   * Optional: the outbox's health at `now`, for dashboards and readiness checks (what
   * `registry.stats()` returns): pending, due and in-flight deliveries, the oldest due one, and
   * the webhooks that are failing (see {@link OutboxStats}). With `scope`, everything is of that
   * scope alone; with `perScope: true`, `scopes` holds the same counters for each scope. One
   * pass on the memory store, one statement on the PostgreSQL store (through partial indexes).
   * Without it, `registry.stats()` throws a `store_unsupported` error.
   *
   * @example
   * ```ts
   * const stats = await store.outboxStats?.({ now: new Date(), scope: 'acme' });
   * if (stats && stats.oldestDueAt) console.log('behind by', Date.now() - stats.oldestDueAt.getTime(), 'ms');
   * ```
   */
  outboxStats?(input: OutboxStatsInput): Promise<OutboxStats>;

  /**
   * Optional wake-ups and webhook changes, from this process and every other one sharing the
   * store: `{ type: 'due' }` soon after deliveries are enqueued, released or redelivered (so
   * workers start at once instead of at their next poll); `{ type: 'webhook' }` after every
   * `updateWebhook` and `deleteWebhook` (with the webhook's `enabled` afterwards, `null` when it
   * was deleted), to this store object's own listeners before the write's promise resolves;
   * `{ type: 'lost' }` when the store can no longer promise those signals (a dropped LISTEN
   * connection) and `{ type: 'restored' }` once it can again (signals may have been missed in
   * between). Resolves to a function that stops listening; rejects when it cannot start
   * (workers then retry with backoff). Stores without it are polled, and workers check a
   * claimed delivery's webhook again before sending it.
   *
   * @example
   * ```ts
   * const stop = await store.watch?.((signal) => {
   *   if (signal.type === 'webhook' && signal.enabled !== true) dropClaimsOf(signal.scope, signal.webhookId);
   * });
   * ```
   */
  watch?(listener: (signal: StoreSignal) => void): Promise<() => Promise<void>>;

  /**
   * Optional: webhooks of every scope, as stored (secrets in their stored form, encrypted or
   * not), ordered by `id` ascending (ids are unique across scopes), those with an id greater
   * than `afterId` (`0` for the start), at most `limit` (a positive integer). A stable order
   * for batch jobs over the whole table: `rotateSecrets` pages with the last id it saw.
   * Without it, `rotateSecrets` throws a `store_unsupported` error.
   *
   * @example
   * ```ts
   * const first = await store.scanWebhooks?.({ afterId: 0, limit: 200 });
   * ```
   */
  scanWebhooks?(input: { afterId: number; limit: number }): Promise<WebhookRecord[]>;

  /**
   * Optional: a compare-and-swap of one webhook's stored secrets: replaces them with `secrets`
   * only while they are exactly `expected` (same values, same order), and returns whether it
   * did. Nothing else changes: not `updatedAt`, not `webhooksVersion`, and no watch signal
   * (the secrets mean the same; only their stored form changes). `false` when the webhook is
   * gone or its secrets changed meanwhile. Without it, `rotateSecrets` throws a
   * `store_unsupported` error.
   *
   * @example
   * ```ts
   * const replaced = await store.replaceWebhookSecrets?.({ scope: 'acme', id: 1, expected: ['whsec_…'], secrets: ['hlenc:v1:…'] });
   * ```
   */
  replaceWebhookSecrets?(input: {
    scope: string;
    id: number;
    expected: readonly string[];
    secrets: readonly string[];
  }): Promise<boolean>;

  /**
   * Optional: one batch of a bulk recovery (what `registry.recover()` streams through). Looks
   * at the scope's deliveries that ended in one of `states` (`failed`, `canceled`) at a time
   * (`updatedAt`, the moment a delivery reached its final state) from `since` (inclusive) to
   * `until` (exclusive; `null`: `now`), optionally of one webhook and of some event types, and
   * takes at most `limit` of them past `cursor` (`null` for the first batch; then the `cursor`
   * the previous batch returned), in an order of the store's choosing that does not change
   * during the scan. Each one whose webhook exists and is enabled goes back to `pending`, due
   * at `now`, `attemptCount` 0, same id (exactly what {@link Store.redeliver} does), and
   * workers are woken; one of a disabled or deleted webhook is left as it is and counted in
   * `skipped` (queued, it would only be canceled at once). With `dryRun`, nothing changes:
   * `queued` is 0 and `matched - skipped` is what a real run would queue.
   *
   * Safe to run twice and concurrently: a delivery queued again is `pending` and no longer
   * matches, and two batches running at once never queue one delivery twice (each delivery
   * is checked and moved in one atomic step; the PostgreSQL store locks the batch's rows with
   * `FOR UPDATE SKIP LOCKED`, so a concurrent run skips, and does not count, what another run
   * is queueing). `cursor` in the result is `null` once the scan is over; it is opaque, and
   * valid only for the same scope and filters. Without it, `registry.recover()` throws a
   * `store_unsupported` error.
   *
   * @example
   * ```ts
   * let cursor: string | null = null;
   * do {
   *   const batch = await store.recoverDeliveries!({ scope: 'acme', since, until: null, webhookId: null, types: null, states: ['failed'], now: new Date(), cursor, limit: 500, dryRun: false });
   *   cursor = batch.cursor;
   * } while (cursor !== null);
   * ```
   */
  recoverDeliveries?(input: RecoverDeliveriesInput): Promise<RecoverDeliveriesResult>;

  /**
   * Optional: stops a pending delivery's retries: it becomes `canceled`, with `reason` as its
   * `lastError` and no next attempt. Returns the delivery afterwards, `null` when the scope has
   * no delivery with that id, and throws `ConflictError` (field `state`) when it is not
   * pending (see `assertCancelable` in `stores/rules.ts`). A delivery under a live lease (an
   * attempt in flight) is canceled as well and its lease ended: the request already sent may
   * still arrive, but the worker's record of that attempt is dropped (a canceled delivery
   * never gains an attempt, `mayRecordAttempt`) and cannot move it (the lease is gone,
   * `holdsLease`), so nothing brings it back but a redelivery. Without it,
   * `registry.cancel()` throws a `store_unsupported` error.
   *
   * @example
   * ```ts
   * const canceled = await store.cancelDelivery?.({ scope: 'acme', id: 'msg_01JD…', reason: 'canceled by the operator', now: new Date() });
   * ```
   */
  cancelDelivery?(input: { scope: string; id: string; reason: string; now: Date }): Promise<Delivery | null>;

  /**
   * Optional: one page of a scope's delivery log, newest first (by `createdAt`, then creation
   * order), filtered: only one webhook's (`webhookId`), only some states and event types (exact
   * names), created in [`since`, `until`), and with `id` only the delivery with that id or the
   * deliveries of the notification with that id. At most `limit` items past `cursor` (`null`
   * for the newest page; then the `cursor` the previous page returned, `null` once there is no
   * older item). The cursor is opaque and valid only for the same scope and filters; a cursor
   * the store cannot read is a `ValidationError` (field `cursor`). What the delivery-log page
   * (`hookline/ui`) and `registry.searchDeliveries()` read. On PostgreSQL one index range scan
   * per page (migration 6). Without it, `registry.searchDeliveries()` throws
   * `store_unsupported`.
   *
   * @example
   * ```ts
   * const page = await store.searchDeliveries?.({ scope: 'acme', webhookId: null, states: ['failed'], types: null, since: null, until: null, id: null, cursor: null, limit: 50 });
   * ```
   */
  searchDeliveries?(input: SearchDeliveriesInput): Promise<SearchDeliveriesResult>;

  /**
   * Optional: what a scope's webhooks did in [`since`, `until`) by their attempts' `startedAt`:
   * per webhook of `webhookIds` (one entry each, in that order, also for a webhook with no
   * attempt or of another scope, which then has zeros), the attempts by outcome, the median
   * and 95th percentile of their durations, the latest attempt ever (within the window or
   * not), and the same counts per `bucketMs`-long bucket from `since` (for charts). See
   * {@link WebhookActivity}. On PostgreSQL one statement over an index (migration 6). Without
   * it, `registry.webhookActivity()` throws `store_unsupported`.
   *
   * @example
   * ```ts
   * const [hook] = await store.webhookActivity?.({ scope: 'acme', webhookIds: [1], since: new Date(Date.now() - 86_400_000), until: new Date(), bucketMs: 3_600_000 }) ?? [];
   * ```
   */
  webhookActivity?(input: WebhookActivityInput): Promise<WebhookActivity[]>;

  /**
   * Optional: where a pending ordered delivery stands in its line (see {@link DeliveryLine});
   * `null` when the scope has no such delivery, or it is not ordered or not pending. What the
   * delivery-log page shows as "waiting behind". Without it, `registry.deliveryLine()` throws
   * `store_unsupported`.
   *
   * @example
   * ```ts
   * const line = await store.deliveryLine?.({ scope: 'acme', id: 'msg_01JD…' });
   * if (line?.blockedBy) console.log('waiting behind', line.blockedBy.id);
   * ```
   */
  deliveryLine?(input: { scope: string; id: string }): Promise<DeliveryLine | null>;

  /** Releases connections or timers the store holds. Safe to call twice. */
  close?(): Promise<void>;
}

/**
 * The input of {@link Store.searchDeliveries}: one page of a scope's delivery log.
 *
 * @example
 * ```ts
 * const input: SearchDeliveriesInput = { scope: 'acme', webhookId: 1, states: ['failed', 'canceled'], types: null, since: null, until: null, id: null, cursor: null, limit: 50 };
 * ```
 */
export interface SearchDeliveriesInput {
  scope: string;
  /** Only this webhook's deliveries; `null` for every webhook of the scope. */
  webhookId: number | null;
  /** Only deliveries in one of these states (at least one); `null` for every state. */
  states: readonly DeliveryState[] | null;
  /** Only deliveries of these event types (exact names, at least one); `null` for every type. */
  types: readonly string[] | null;
  /** Only deliveries created at or after this instant; `null`: no lower bound. */
  since: Date | null;
  /** Only deliveries created before this instant; `null`: no upper bound. */
  until: Date | null;
  /** Only the delivery with this id, or the deliveries of the notification with this id; `null`: any. */
  id: string | null;
  /** Where the previous page stopped (its result's `cursor`); `null` for the newest page. */
  cursor: string | null;
  /** The most items of this page, a positive integer. */
  limit: number;
}

/**
 * One page of {@link Store.searchDeliveries}.
 *
 * @example
 * ```ts
 * const page: SearchDeliveriesResult = { items: [], cursor: null };
 * ```
 */
export interface SearchDeliveriesResult {
  /** The deliveries, newest first. */
  items: Delivery[];
  /** Where the next (older) page starts; `null` when there is none. */
  cursor: string | null;
}

/**
 * The input of {@link Store.webhookActivity}.
 *
 * @example
 * ```ts
 * const input: WebhookActivityInput = { scope: 'acme', webhookIds: [1, 2], since: new Date(Date.now() - 86_400_000), until: new Date(), bucketMs: 3_600_000 };
 * ```
 */
export interface WebhookActivityInput {
  scope: string;
  /** The webhooks to report on, each once (at most 1 000). */
  webhookIds: readonly number[];
  /** Attempts started at or after this instant. */
  since: Date;
  /** ... and before this instant (after `since`). */
  until: Date;
  /** The length of one chart bucket in milliseconds (at least 60 000; at most 1 000 buckets in the window). */
  bucketMs: number;
}

/**
 * Attempts of one webhook, counted by outcome: `succeeded` (the attempt is `ok`: a 2xx answer),
 * `failed` (not `ok`, with an HTTP status: any other status) and `errored` (no HTTP answer:
 * timeout, refused, blocked by the SSRF guard, ...: status 0).
 *
 * @example
 * ```ts
 * const counts: AttemptCounts = { succeeded: 98, failed: 1, errored: 1 };
 * ```
 */
export interface AttemptCounts {
  succeeded: number;
  failed: number;
  errored: number;
}

/**
 * One chart bucket of {@link WebhookActivity}: the attempts started in
 * [`start`, `start + bucketMs`), by outcome, and the median of their durations (`null` without
 * attempts).
 *
 * @example
 * ```ts
 * const bucket: ActivityBucket = { start: new Date('2026-12-04T10:00:00Z'), succeeded: 60, failed: 0, errored: 0, p50DurationMs: 41 };
 * ```
 */
export interface ActivityBucket extends AttemptCounts {
  start: Date;
  p50DurationMs: number | null;
}

/**
 * What one webhook did in a window (see {@link Store.webhookActivity}). Percentiles are
 * continuous (interpolated between the two nearest durations, as PostgreSQL's
 * `percentile_cont`), `null` without attempts in the window.
 *
 * @example
 * ```ts
 * const activity: WebhookActivity = {
 *   webhookId: 1, succeeded: 98, failed: 1, errored: 1, p50DurationMs: 40, p95DurationMs: 210,
 *   lastAttempt: { startedAt: new Date(), status: 200, ok: true, durationMs: 38 }, buckets: [],
 * };
 * ```
 */
export interface WebhookActivity extends AttemptCounts {
  webhookId: number;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
  /**
   * The webhook's newest attempt ever, in the window or not: the latest `startedAt`, and of
   * attempts started at the same instant the one recorded last; `null` when it has none.
   */
  lastAttempt: { startedAt: Date; status: number; ok: boolean; durationMs: number } | null;
  /** One per `bucketMs` from `since` up to `until` (the last one may be cut short), oldest first, empty ones included. */
  buckets: ActivityBucket[];
}

/**
 * The final states a bulk recovery can queue again: `failed` and `canceled`.
 *
 * @example
 * ```ts
 * const states: RecoverableState[] = ['failed', 'canceled'];
 * ```
 */
export type RecoverableState = 'failed' | 'canceled';

/**
 * The input of {@link Store.recoverDeliveries}: one batch of a bulk recovery.
 *
 * @example
 * ```ts
 * const input: RecoverDeliveriesInput = { scope: 'acme', since: new Date(Date.now() - 86_400_000), until: null, webhookId: null, types: null, states: ['failed'], now: new Date(), cursor: null, limit: 500, dryRun: false };
 * ```
 */
export interface RecoverDeliveriesInput {
  scope: string;
  /** Deliveries that reached their final state at or after this instant. */
  since: Date;
  /** ... and before this instant; `null` means `now`. */
  until: Date | null;
  /** Only this webhook's deliveries; `null` for every webhook of the scope. */
  webhookId: number | null;
  /** Only deliveries of these event types (exact names); `null` for every type. */
  types: readonly string[] | null;
  /** The final states to recover, at least one. */
  states: readonly RecoverableState[];
  /** When the queued deliveries are due (and `until` when that is `null`). */
  now: Date;
  /** Where the previous batch stopped (its result's `cursor`); `null` for the first batch. */
  cursor: string | null;
  /** The most deliveries this batch looks at (matches), a positive integer. */
  limit: number;
  /** Count only: change nothing. */
  dryRun: boolean;
}

/**
 * What one batch of {@link Store.recoverDeliveries} did.
 *
 * @example
 * ```ts
 * const done: RecoverDeliveriesResult = { matched: 500, queued: 480, skipped: 20, cursor: null };
 * ```
 */
export interface RecoverDeliveriesResult {
  /** Deliveries of this batch in range, state and filters (at most `limit`). */
  matched: number;
  /** Of those, the ones queued again (0 in a dry run). */
  queued: number;
  /** Of those, the ones of a disabled or deleted webhook, left as they were. */
  skipped: number;
  /** Where the next batch starts; `null` when the scan is over. */
  cursor: string | null;
}

/**
 * What a store's {@link Store.watch} tells its listeners.
 *
 * - `due`: deliveries may be due now.
 * - `webhook`: a webhook was updated (`enabled` as it is now) or deleted (`enabled: null`).
 * - `lost`: signals can no longer be promised (e.g. the LISTEN connection dropped); `error` says why.
 * - `restored`: signals flow again; some may have been missed while they were lost.
 *
 * @example
 * ```ts
 * const signal: StoreSignal = { type: 'webhook', scope: 'acme', webhookId: 1, enabled: false };
 * ```
 */
export type StoreSignal =
  | { type: 'due' }
  | { type: 'webhook'; scope: string; webhookId: number; enabled: boolean | null }
  | { type: 'lost'; error: Error }
  | { type: 'restored' };

/** A delivery to store with `enqueue`. */
export interface NewDelivery {
  /** Stable delivery id (see `createDeliveryId`), unique across the store. */
  id: string;
  webhookId: number;
  type: string;
  event: string | null;
  request: OutgoingRequest;
  /**
   * Set when the request could not be rendered (e.g. a header template produced an unsafe
   * value): the delivery is stored already `failed`, with this as its `lastError`, and is never
   * sent. Absent or `null` for a normal delivery.
   */
  failure?: string | null;
  /**
   * The W3C `traceparent` of the emit that made this delivery (set when an OpenTelemetry SDK
   * records hookline's spans), stored as given and handed back with every claim, so each
   * attempt's span links to the emit. Absent or `null`: none.
   */
  traceContext?: string | null;
  /**
   * Whether the delivery joins an ordered line: its webhook has `ordering: 'fifo'`. The line
   * is (scope, `webhookId`, `orderingKey`); see {@link Store.claimDue}. Absent: `false`.
   */
  ordered?: boolean;
  /** The line's key (the notification's `orderingKey`), for an ordered delivery; absent or `null`: the whole webhook is one line. Stored only when `ordered`. */
  orderingKey?: string | null;
}

/**
 * Where a pending delivery of an ordered line stands, what {@link Store.deliveryLine} returns.
 *
 * @example
 * ```ts
 * const line: DeliveryLine = { ahead: 2, blockedBy: head };
 * ```
 */
export interface DeliveryLine {
  /** Deliveries of its line before it: pending ones emitted earlier, and the failed one pausing the line. */
  ahead: number;
  /**
   * The delivery it waits for: the line's paused delivery, else the line's head (the oldest
   * pending one) when that is another; `null` when it is the head itself.
   */
  blockedBy: Delivery | null;
}

/**
 * One notification of {@link Store.enqueueMany}: what {@link Store.enqueue} takes, without
 * `now` and `tx` (the batch has one of each).
 *
 * @example
 * ```ts
 * const item: EnqueueItem = { scope: 'acme', notificationId: 'ntf_1', deliveries: [] };
 * ```
 */
export interface EnqueueItem {
  scope: string;
  notificationId: string;
  deliveries: NewDelivery[];
}

/**
 * A delivery handed out by `claimDue`, with the lease that makes it the claimer's. Read-only:
 * a store may hand out its `request` and `webhook` as frozen objects shared between claims.
 */
export interface ClaimedDelivery extends Delivery {
  leaseToken: string;
  leaseUntil: Date;
  /** The delivery's webhook at claim time, secrets included; `null` when it was removed. */
  webhook: WebhookRecord | null;
  /** The `traceContext` the delivery was enqueued with, `null` (or absent, in older stores) without one. */
  traceContext?: string | null;
}

/** One item of `recordAttempts`: one finished attempt of a claimed delivery and where it goes. */
export interface RecordAttemptInput {
  deliveryId: string;
  leaseToken: string;
  attempt: AttemptData;
  outcome: DeliveryTransition;
  now: Date;
  /**
   * When the delivery is ordered and `outcome` is `failed`: pause its line behind it (the
   * webhook's `orderingOnFailure` is `pause`) instead of moving on. Absent: `false`.
   */
  pauseLine?: boolean;
}

/** What `recordAttempts` did with one item: whether the delivery moved, and the webhook's health after. */
export interface RecordAttemptResult {
  applied: boolean;
  health: WebhookHealth | null;
}

/**
 * What one HTTP try produced, as a store records it; the store adds ids, numbering and the
 * retry flag.
 *
 * @example
 * ```ts
 * const attempt: AttemptData = { startedAt: new Date(), durationMs: 12, status: 204, ok: true, error: null, responseBody: '', responseHeaders: {} };
 * ```
 */
export type AttemptData = Pick<
  Attempt,
  'startedAt' | 'durationMs' | 'status' | 'ok' | 'error' | 'responseBody' | 'responseHeaders'
>;

/**
 * Where a delivery goes after an attempt: `succeeded`, `pending` again at `nextAttemptAt`, or
 * `failed`. Decided by `decideOutcome`; the store applies it.
 *
 * @example
 * ```ts
 * const transition: DeliveryTransition = { state: 'pending', nextAttemptAt: new Date(Date.now() + 60_000) };
 * ```
 */
export type DeliveryTransition =
  | { state: 'succeeded' }
  | { state: 'pending'; nextAttemptAt: Date }
  | { state: 'failed' };

/** @deprecated Renamed {@link AttemptData} (the old name collided with the classifier's input). */
export type AttemptResult = AttemptData;

/** @deprecated Renamed {@link DeliveryTransition} (the old name collided with the classification). */
export type AttemptOutcome = DeliveryTransition;

/** A webhook's failure record, kept by `recordAttempts`. */
export interface WebhookHealth {
  failingSince: Date | null;
  consecutiveFailures: number;
}

/**
 * How many failing webhooks {@link OutboxStats.failingWebhooks} lists at most: 100, the ones
 * failing longest. {@link OutboxStats.failingWebhookCount} counts them all.
 *
 * @example
 * ```ts
 * if (stats.failingWebhookCount > FAILING_WEBHOOKS_LIMIT) console.log('and more');
 * ```
 */
export const FAILING_WEBHOOKS_LIMIT = 100;

/**
 * The input of {@link Store.outboxStats}.
 *
 * @example
 * ```ts
 * const input: OutboxStatsInput = { now: new Date(), scope: 'acme', perScope: false };
 * ```
 */
export interface OutboxStatsInput {
  /** The instant the counters are taken at (what is due, which leases are live). */
  now: Date;
  /** Only this scope's deliveries and webhooks. Default: every scope. */
  scope?: string;
  /** Also the counters of each scope, in {@link OutboxStats.scopes}. Default `false`. */
  perScope?: boolean;
}

/**
 * The outbox counters at one instant, of a scope or of the whole store. Every pending delivery
 * is counted in `pending`, and in at most one of `due` and `inFlight` (one that is neither is
 * waiting for its next attempt).
 *
 * @example
 * ```ts
 * const counts: OutboxCounts = { pending: 3, due: 1, inFlight: 1, oldestDueAt: new Date(), failingWebhookCount: 0 };
 * ```
 */
export interface OutboxCounts {
  /** Deliveries in state `pending`: due, in flight, or waiting for a later attempt. */
  pending: number;
  /** Pending deliveries due at `now` and not under a live lease: what workers have not taken yet. */
  due: number;
  /** Pending deliveries under a live lease at `now`: claimed by a worker, sent or about to be. */
  inFlight: number;
  /**
   * The earliest `nextAttemptAt` of the due deliveries, `null` when none is due: how far behind
   * the workers are is `now - oldestDueAt`.
   */
  oldestDueAt: Date | null;
  /** Webhooks whose `failingSince` is set (their last attempt failed), enabled or not. */
  failingWebhookCount: number;
}

/**
 * The counters of one scope, in {@link OutboxStats.scopes}.
 *
 * @example
 * ```ts
 * const acme: ScopeOutboxStats = { scope: 'acme', pending: 0, due: 0, inFlight: 0, oldestDueAt: null, failingWebhookCount: 0 };
 * ```
 */
export interface ScopeOutboxStats extends OutboxCounts {
  scope: string;
}

/**
 * A webhook that is failing, in {@link OutboxStats.failingWebhooks}: its last attempt failed
 * (`failingSince` is when the run of failures began; see `healthAfterAttempt`).
 *
 * @example
 * ```ts
 * const w: FailingWebhook = { scope: 'acme', webhookId: 7, url: 'https://example.com/hook', enabled: true, consecutiveFailures: 3, failingSince: new Date() };
 * ```
 */
export interface FailingWebhook {
  scope: string;
  webhookId: number;
  url: string;
  /** `false` once it was disabled (by hand, or automatically after failing too long). */
  enabled: boolean;
  /** Deliveries that ended `failed` in a row (see `WebhookHealth`). */
  consecutiveFailures: number;
  failingSince: Date;
}

/**
 * What {@link Store.outboxStats} returns: the counters of the outbox (of one scope when asked),
 * the webhooks failing longest, and with `perScope` the counters of each scope.
 *
 * @example
 * ```ts
 * const stats: OutboxStats = await store.outboxStats!({ now: new Date(), perScope: true });
 * for (const s of stats.scopes ?? []) console.log(s.scope, s.due, s.oldestDueAt);
 * ```
 */
export interface OutboxStats extends OutboxCounts {
  /**
   * Up to {@link FAILING_WEBHOOKS_LIMIT} (100) failing webhooks, the ones failing longest first
   * (`failingSince` ascending, then id); `failingWebhookCount` counts them all.
   */
  failingWebhooks: FailingWebhook[];
  /**
   * With `perScope: true` only: one entry per scope that has a pending delivery or a failing
   * webhook (of the given `scope` alone when one was given), ordered by scope name in binary
   * order (`'B'` before `'a'`). Absent otherwise.
   */
  scopes?: ScopeOutboxStats[];
}
