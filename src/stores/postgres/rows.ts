/**
 * The PostgreSQL store's rows: what its statements return and take as JSON, and the mappers
 * between those rows and hookline's records. No I/O; the statements that produce and consume
 * these rows are in `statements.ts`.
 *
 * @module
 */
import type { Attempt, Delivery, DeliveryState, OutgoingRequest, WebhookRecord } from '../../model.js';
import { freezeWebhook, HEALTHY } from '../rules.js';
import { CountsTotal } from '../stats.js';
import type {
  ActivityBucket,
  AttemptCounts,
  ClaimedDelivery,
  FailingWebhook,
  NewDelivery,
  OutboxCounts,
  OutboxStats,
  RecordAttemptInput,
  RecordAttemptResult,
  ScopeOutboxStats,
  WebhookActivity,
  WebhookHealth,
} from '../types.js';

/** A row of `webhooks`, as the driver returns it (bigint and timestamptz columns may come as text). */
export interface WebhookRow {
  id: unknown;
  scope: string;
  key: string | null;
  enabled: boolean;
  disabled_reason: WebhookRecord['disabledReason'];
  url: string;
  method: WebhookRecord['method'];
  event_types: unknown;
  all_events: boolean;
  limit_events: unknown;
  header_template: string | null;
  body_template: string | null;
  template_escape: WebhookRecord['templateEscape'];
  comment: string | null;
  secrets: unknown;
  failing_since: unknown;
  consecutive_failures: unknown;
  created_at: unknown;
  updated_at: unknown;
  ordering: WebhookRecord['ordering'];
  ordering_on_failure: WebhookRecord['orderingOnFailure'];
}

/** A row of `deliveries`, as the driver returns it. */
export interface DeliveryRow {
  id: string;
  seq: unknown;
  scope: string;
  webhook_id: unknown;
  notification_id: string;
  type: string;
  event: string | null;
  request: unknown;
  state: DeliveryState;
  attempt_count: unknown;
  next_attempt_at: unknown;
  last_status: unknown;
  last_error: string | null;
  lease_token: string | null;
  lease_until: unknown;
  created_at: unknown;
  updated_at: unknown;
  /** `null`: unordered; `''`: the whole webhook's line; else the line's `orderingKey`. */
  line_key: string | null;
  /** A failed delivery its line waits behind (`Delivery.pausesLine`). */
  pauses_line: boolean;
}

/** A row of `attempts`, as the driver returns it. */
export interface AttemptRow {
  id: unknown;
  delivery_id: string;
  scope: string;
  webhook_id: unknown;
  attempt_number: unknown;
  retry: boolean;
  started_at: unknown;
  duration_ms: unknown;
  status: unknown;
  ok: boolean;
  error: string | null;
  response_body: string;
  response_headers: unknown;
}

/** The columns of {@link WebhookRow}, in table order: what webhook reads select. */
export const WEBHOOK_COLUMNS: readonly (keyof WebhookRow)[] = [
  'id',
  'scope',
  'key',
  'enabled',
  'disabled_reason',
  'url',
  'method',
  'event_types',
  'all_events',
  'limit_events',
  'header_template',
  'body_template',
  'template_escape',
  'comment',
  'secrets',
  'failing_since',
  'consecutive_failures',
  'created_at',
  'updated_at',
  'ordering',
  'ordering_on_failure',
];

/** The columns of {@link DeliveryRow}, in table order. */
export const DELIVERY_COLUMNS: readonly (keyof DeliveryRow)[] = [
  'id',
  'seq',
  'scope',
  'webhook_id',
  'notification_id',
  'type',
  'event',
  'request',
  'state',
  'attempt_count',
  'next_attempt_at',
  'last_status',
  'last_error',
  'lease_token',
  'lease_until',
  'created_at',
  'updated_at',
  'line_key',
  'pauses_line',
];

/** The columns of {@link AttemptRow}, in table order. */
export const ATTEMPT_COLUMNS: readonly (keyof AttemptRow)[] = [
  'id',
  'delivery_id',
  'scope',
  'webhook_id',
  'attempt_number',
  'retry',
  'started_at',
  'duration_ms',
  'status',
  'ok',
  'error',
  'response_body',
  'response_headers',
];

/** A jsonb column's value: drivers hand out freshly parsed objects (or text, which is parsed here). */
export function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** A timestamptz value: drivers hand out fresh Date objects (or text, which is parsed here). */
export function date(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string);
}

/** A nullable timestamptz value, as {@link date}. */
export function dateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : date(value);
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A timestamp as the statements take it: ISO text, cast to `timestamptz` in SQL. */
export const iso = (d: Date): string => d.toISOString();

/** A webhook row as a record (a fresh object: the driver parsed its jsonb columns for this row). */
export function toWebhook(row: WebhookRow): WebhookRecord {
  return {
    id: Number(row.id),
    scope: row.scope,
    key: row.key,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    url: row.url,
    method: row.method,
    eventTypes: json(row.event_types),
    allEvents: row.all_events,
    limitEvents: json(row.limit_events),
    headerTemplate: row.header_template,
    bodyTemplate: row.body_template,
    templateEscape: row.template_escape,
    comment: row.comment,
    secrets: json(row.secrets),
    failingSince: dateOrNull(row.failing_since),
    consecutiveFailures: Number(row.consecutive_failures),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    ordering: row.ordering,
    orderingOnFailure: row.ordering_on_failure,
  };
}

/** A delivery row as a delivery (its lease columns are left out; see {@link toClaims}). */
export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    scope: row.scope,
    webhookId: Number(row.webhook_id),
    notificationId: row.notification_id,
    type: row.type,
    event: row.event,
    request: json(row.request),
    state: row.state,
    attemptCount: Number(row.attempt_count),
    nextAttemptAt: dateOrNull(row.next_attempt_at),
    lastStatus: numberOrNull(row.last_status),
    lastError: row.last_error,
    ordered: row.line_key !== null && row.line_key !== undefined,
    orderingKey: row.line_key === '' || row.line_key === undefined ? null : row.line_key,
    pausesLine: row.pauses_line === true,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

/** An attempt row as an attempt. */
export function toAttempt(row: AttemptRow): Attempt {
  return {
    id: Number(row.id),
    deliveryId: row.delivery_id,
    scope: row.scope,
    webhookId: Number(row.webhook_id),
    attemptNumber: Number(row.attempt_number),
    retry: row.retry,
    startedAt: date(row.started_at),
    durationMs: Number(row.duration_ms),
    status: Number(row.status),
    ok: row.ok,
    error: row.error,
    responseBody: row.response_body,
    responseHeaders: json(row.response_headers),
  };
}

/**
 * The rows of a paged read (`listWebhooks`, `listDeliveries`, `listAttempts`): each row also
 * carries `total`, and an empty page is one row with `total` and null columns.
 */
export function toPage<R extends { id: unknown }, T>(
  rows: unknown[],
  map: (row: R) => T,
): { count: number; items: T[] } {
  const typed = rows as (R & { total: unknown })[];
  const count = Number(typed[0]?.total ?? 0);
  const items: T[] = [];
  for (const row of typed) if (row.id !== null && row.id !== undefined) items.push(map(row));
  return { count, items };
}

/**
 * The claim statement's one value: the claimed deliveries in due order, and each distinct
 * webhook of the batch once (`null` lists when nothing was claimed).
 */
export interface ClaimBatch {
  /** The claimed rows, each with its `trace_context` too (only claims read that column). */
  deliveries: (DeliveryRow & { trace_context?: string | null })[] | null;
  webhooks: WebhookRow[] | null;
}

/**
 * The claim statement's batch as claims. Each webhook becomes one frozen snapshot
 * (`freezeWebhook` in `stores/rules.ts`) shared by all of the batch's deliveries to it, so no
 * consumer can change it under another.
 */
export function toClaims(value: unknown): ClaimedDelivery[] {
  const batch = json<ClaimBatch>(value);
  const webhooks = new Map<string, WebhookRecord>();
  for (const w of batch.webhooks ?? []) webhooks.set(`${w.id} ${w.scope}`, freezeWebhook(toWebhook(w)));
  return (batch.deliveries ?? []).map((d) => {
    // Added to the delivery rather than spread into a new object (V8's slow path).
    const claimed = toDelivery(d) as ClaimedDelivery;
    claimed.leaseToken = d.lease_token ?? '';
    claimed.leaseUntil = date(d.lease_until);
    claimed.webhook = webhooks.get(`${d.webhook_id} ${d.scope}`) ?? null;
    claimed.traceContext = d.trace_context ?? null;
    return claimed;
  });
}

/** One delivery of the enqueue statement's JSON array (`$5`). */
export interface EnqueueRow {
  id: string;
  webhookId: number;
  type: string;
  event: string | null;
  request: OutgoingRequest;
  /** Set: the delivery is stored `failed` with this as its last error. */
  failure: string | null;
  /** The emit's `traceparent`, or null. */
  traceContext: string | null;
  /** An ordered delivery's line (`line_key`): `''` the whole webhook, else its `orderingKey`; absent when unordered. */
  lineKey?: string;
}

/** The line of a new delivery (`line_key`): `null` when it is unordered or failed at once. */
function lineKeyOf(d: NewDelivery): string | null {
  return d.ordered === true && !d.failure ? (d.orderingKey ?? '') : null;
}

/**
 * The deliveries of an enqueue as the statement's JSON rows (an unordered one as before
 * ordered delivery, without `lineKey`).
 *
 * @example
 * ```ts
 * const rows = toEnqueueRows(deliveries);
 * const ordered = rows.some((row) => row.lineKey !== undefined); // the statement's shape
 * ```
 */
export function toEnqueueRows(deliveries: readonly NewDelivery[]): EnqueueRow[] {
  return deliveries.map((d) => {
    const row: EnqueueRow = {
      id: d.id,
      webhookId: d.webhookId,
      type: d.type,
      event: d.event,
      request: d.request,
      failure: d.failure ? d.failure : null,
      traceContext: d.traceContext ?? null,
    };
    const lineKey = lineKeyOf(d);
    if (lineKey !== null) row.lineKey = lineKey;
    return row;
  });
}

/** One item of the record statement's JSON array (`$1`), read back with `jsonb_to_recordset`. */
export interface RecordInputRow {
  /** The item's index in the batch: the order its effects on webhook health apply in. */
  ord: number;
  delivery_id: string;
  lease_token: string;
  started_at: string;
  duration_ms: number;
  status: number;
  ok: boolean;
  error: string | null;
  response_body: string;
  response_headers: Record<string, string>;
  state: RecordAttemptInput['outcome']['state'];
  next_attempt_at: string | null;
  now: string;
  /** `failed` with the line paused behind it (`RecordAttemptInput.pauseLine`). */
  pause_line: boolean;
}

/** The items of `recordAttempts` as the record statement's JSON rows. */
export function toRecordInputRows(items: readonly RecordAttemptInput[]): RecordInputRow[] {
  return items.map((item, ord) => ({
    ord,
    delivery_id: item.deliveryId,
    lease_token: item.leaseToken,
    started_at: iso(item.attempt.startedAt),
    duration_ms: item.attempt.durationMs,
    status: item.attempt.status,
    ok: item.attempt.ok,
    error: item.attempt.error,
    response_body: item.attempt.responseBody,
    response_headers: item.attempt.responseHeaders,
    state: item.outcome.state,
    next_attempt_at: item.outcome.state === 'pending' ? iso(item.outcome.nextAttemptAt) : null,
    now: iso(item.now),
    pause_line: item.outcome.state === 'failed' && item.pauseLine === true,
  }));
}

/** One row the record statement returns per input item, in input order. */
export interface RecordRow {
  ord: unknown;
  /** The delivery exists and is not canceled: its attempt was stored. */
  found: boolean;
  /** The caller's lease was current: the delivery moved. */
  applied: boolean;
  /** The webhook still exists; the next two columns are its health after the batch. */
  has_health: boolean;
  failing_since: unknown;
  consecutive_failures: unknown;
}

/** A webhook's health from its columns: {@link HEALTHY} itself when healthy. */
export function toHealth(failingSince: unknown, consecutiveFailures: unknown): WebhookHealth {
  const since = dateOrNull(failingSince);
  const failures = Number(consecutiveFailures);
  return since === null && failures === 0 ? HEALTHY : { failingSince: since, consecutiveFailures: failures };
}

/**
 * The record statement's rows as the results of `count` items: an item without a row, or
 * whose delivery was not found (missing or canceled), did nothing.
 */
export function toRecordResults(count: number, rows: readonly RecordRow[]): RecordAttemptResult[] {
  const results: RecordAttemptResult[] = [];
  for (let i = 0; i < count; i++) results.push({ applied: false, health: null });
  for (const row of rows) {
    if (!row.found) continue;
    results[Number(row.ord)] = {
      applied: row.applied,
      health: row.has_health ? toHealth(row.failing_since, row.consecutive_failures) : null,
    };
  }
  return results;
}

/** The row of the `outboxStats` statement (see `outboxStats` in statements.ts). */
export interface OutboxStatsRow {
  /** Without `perScope`: the counters. */
  pending?: unknown;
  due?: unknown;
  in_flight?: unknown;
  oldest_due?: unknown;
  failing_count?: unknown;
  /** With `perScope`: the counters per scope (JSON). */
  scopes?: unknown;
  /** The webhooks failing longest (JSON). */
  failing: unknown;
}

interface CountersJson {
  pending?: unknown;
  due?: unknown;
  in_flight?: unknown;
  oldest_due?: unknown;
  failing_count?: unknown;
}

function toCounts(row: CountersJson): OutboxCounts {
  return {
    pending: Number(row.pending ?? 0),
    due: Number(row.due ?? 0),
    inFlight: Number(row.in_flight ?? 0),
    oldestDueAt: dateOrNull(row.oldest_due),
    failingWebhookCount: Number(row.failing_count ?? 0),
  };
}

/**
 * The `outboxStats` row as {@link OutboxStats}; with `perScope` the totals are the sums of the
 * scopes' counters (each pending delivery and failing webhook is of exactly one scope).
 *
 * @example
 * ```ts
 * const stats = toOutboxStats(rows[0], { perScope: false });
 * ```
 */
export function toOutboxStats(row: OutboxStatsRow | undefined, shape: { perScope: boolean }): OutboxStats {
  const failingWebhooks = json<Record<string, unknown>[]>(row?.failing ?? []).map(
    (w): FailingWebhook => ({
      scope: w.scope as string,
      webhookId: Number(w.id),
      url: w.url as string,
      enabled: w.enabled as boolean,
      consecutiveFailures: Number(w.consecutive_failures),
      failingSince: date(w.failing_since),
    }),
  );
  if (!shape.perScope) return { ...toCounts(row ?? {}), failingWebhooks };
  const total = new CountsTotal();
  const scopes = json<(CountersJson & { scope: string })[]>(row?.scopes ?? []).map((s): ScopeOutboxStats => {
    const entry = { scope: s.scope, ...toCounts(s) };
    total.add(entry);
    return entry;
  });
  return { ...total.counts(), failingWebhooks, scopes };
}

/**
 * A row of the `searchDeliveries` statement: a delivery and where a cursor after it points.
 *
 * @example
 * ```ts
 * const cursor = `${row.cursor_at}:${String(row.seq)}`;
 * ```
 */
export interface SearchRow extends DeliveryRow {
  /** `created_at` in microseconds since 1970, as text. */
  cursor_at: string;
}

/**
 * A row of the `webhookActivity` statement (see `webhookActivity` in statements.ts): a
 * webhook's counts in the window (`total`), in one bucket (`bucket`), or its newest attempt
 * (`last`).
 *
 * @example
 * ```ts
 * const totals = rows.filter((row: ActivityRow) => row.kind === 'total');
 * ```
 */
export interface ActivityRow {
  kind: 'total' | 'bucket' | 'last';
  webhook_id: unknown;
  /** The bucket's index from the window's start (`bucket` rows). */
  bucket: unknown;
  succeeded: unknown;
  failed: unknown;
  errored: unknown;
  /** The durations' continuous percentiles {0.5, 0.95} (`total` and `bucket` rows). */
  percentiles: unknown;
  /** The newest attempt (`last` rows). */
  started_at: unknown;
  status: unknown;
  ok: boolean | null;
  duration_ms: unknown;
}

const NO_ATTEMPTS: AttemptCounts = { succeeded: 0, failed: 0, errored: 0 };

function counts(row: ActivityRow): AttemptCounts {
  return { succeeded: Number(row.succeeded), failed: Number(row.failed), errored: Number(row.errored) };
}

/** The percentiles of a row (a float8[] as the driver returns it, or its text). */
function percentiles(row: ActivityRow): [number | null, number | null] {
  const value = row.percentiles;
  const list = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.replace(/^\{|\}$/g, '').split(',')
      : [];
  return [numberOrNull(list[0] ?? null), numberOrNull(list[1] ?? null)];
}

/**
 * The `webhookActivity` rows as one {@link WebhookActivity} per id of `webhookIds`, in that
 * order: zeros, `null` percentiles and empty buckets for a webhook without rows, and every one
 * of the `bucketCount` buckets from `since` (`bucketMs` each), empty ones included.
 *
 * @example
 * ```ts
 * const activity = toWebhookActivities(rows, { webhookIds: [1], since: new Date(0), bucketMs: 60_000, bucketCount: 60 });
 * ```
 */
export function toWebhookActivities(
  rows: readonly ActivityRow[],
  window: { webhookIds: readonly number[]; since: Date; bucketMs: number; bucketCount: number },
): WebhookActivity[] {
  const totals = new Map<number, ActivityRow>();
  const lasts = new Map<number, ActivityRow>();
  const buckets = new Map<number, Map<number, ActivityRow>>();
  for (const row of rows) {
    const id = Number(row.webhook_id);
    if (row.kind === 'total') totals.set(id, row);
    else if (row.kind === 'last') lasts.set(id, row);
    else {
      let own = buckets.get(id);
      if (own === undefined) {
        own = new Map();
        buckets.set(id, own);
      }
      own.set(Number(row.bucket), row);
    }
  }
  const start = window.since.getTime();
  return window.webhookIds.map((webhookId): WebhookActivity => {
    const total = totals.get(webhookId);
    const last = lasts.get(webhookId);
    const own = buckets.get(webhookId);
    const [p50, p95] = total === undefined ? [null, null] : percentiles(total);
    const series: ActivityBucket[] = [];
    for (let i = 0; i < window.bucketCount; i++) {
      const row = own?.get(i);
      series.push({
        start: new Date(start + i * window.bucketMs),
        ...(row === undefined ? NO_ATTEMPTS : counts(row)),
        p50DurationMs: row === undefined ? null : percentiles(row)[0],
      });
    }
    return {
      webhookId,
      ...(total === undefined ? NO_ATTEMPTS : counts(total)),
      p50DurationMs: p50,
      p95DurationMs: p95,
      lastAttempt:
        last === undefined
          ? null
          : {
              startedAt: date(last.started_at),
              status: Number(last.status),
              ok: last.ok === true,
              durationMs: Number(last.duration_ms),
            },
      buckets: series,
    };
  });
}
