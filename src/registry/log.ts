/**
 * The delivery log's reads: `registry.searchDeliveries()` (a scope's deliveries, filtered and
 * paged newest first), `registry.webhookActivity()` (per-webhook attempts by outcome,
 * percentiles and chart buckets) and `registry.deliveryLine()` (where a pending ordered
 * delivery waits). Checks the options, then asks the store's optional
 * {@link Store.searchDeliveries}, {@link Store.webhookActivity} and {@link Store.deliveryLine}.
 *
 * @module
 */

import { HooklineError, ValidationError, type ValidationIssue } from '../errors.js';
import { DELIVERY_STATES, type DeliveryState } from '../model.js';
import { checkOptionsObject } from '../options.js';
import { MAX_ACTIVITY_BUCKETS } from '../stores/rules.js';
import type { DeliveryLine, SearchDeliveriesResult, Store, WebhookActivity } from '../stores/types.js';

export { MAX_ACTIVITY_BUCKETS };

/** Items of one page of `registry.searchDeliveries()` by default: 50. */
export const DEFAULT_SEARCH_LIMIT = 50;
/** The largest `limit` of `registry.searchDeliveries()`: 500. */
export const MAX_SEARCH_LIMIT = 500;
/** Most event types or states one search may filter by. */
const MAX_FILTER_VALUES = 100;
/** Most webhooks one `registry.webhookActivity()` call reports on: 1 000. */
export const MAX_ACTIVITY_WEBHOOKS = 1_000;
const HOUR_MS = 3_600_000;

/**
 * Options of `registry.searchDeliveries()`. Every filter is optional; together they narrow.
 *
 * @example
 * ```ts
 * const options: SearchDeliveriesOptions = { states: ['failed'], since: new Date(Date.now() - 86_400_000), limit: 20 };
 * ```
 */
export interface SearchDeliveriesOptions {
  /** Only this webhook's deliveries. Default: every webhook of the scope. */
  webhookId?: number;
  /** Only deliveries in these states. Default: every state. */
  states?: readonly DeliveryState[];
  /** Only deliveries of these event types (exact names). Default: every type. */
  types?: readonly string[];
  /** Only deliveries created at or after this instant. */
  since?: Date;
  /** Only deliveries created before this instant. */
  until?: Date;
  /** A delivery id (that delivery) or a notification id (its deliveries). */
  id?: string;
  /** The `cursor` of the previous page, for the next (older) one. Default: the newest page. */
  cursor?: string;
  /** Items per page, 1 to 500. Default 50. */
  limit?: number;
}

/**
 * Options of `registry.webhookActivity()`.
 *
 * @example
 * ```ts
 * const options: WebhookActivityOptions = { webhookIds: [1, 2], since: new Date(Date.now() - 7 * 86_400_000), bucketMs: 86_400_000 };
 * ```
 */
export interface WebhookActivityOptions {
  /** The webhooks to report on (at most 1 000). Default: the scope's webhooks (its first 1 000 by id). */
  webhookIds?: readonly number[];
  /** The window's start. Default: `until` minus 24 hours. */
  since?: Date;
  /** The window's end (exclusive). Default: now. */
  until?: Date;
  /** One chart bucket's length in ms, at least 60 000, at most 1 000 buckets in the window. Default 3 600 000 (an hour). */
  bucketMs?: number;
}

const isDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());

function unsupported(
  method: 'searchDeliveries' | 'webhookActivity' | 'deliveryLine',
  store: Store,
): HooklineError {
  return new HooklineError(
    'store_unsupported',
    `registry.${method}() needs a store with a ${method}() method; the ${JSON.stringify(store.name)} store has none. ` +
      `Implement Store.${method} (run storeConformance with capabilities.${method}: true), or use memoryStore() ` +
      'or postgresStore(), which have it.',
  );
}

function checkList<T>(
  issues: ValidationIssue[],
  name: string,
  value: readonly T[] | undefined,
  ok: (item: unknown) => boolean,
  message: string,
): T[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_FILTER_VALUES) {
    issues.push({
      path: [name],
      code: `invalid_${name}`,
      message: `${name} must be a list of 1 to ${MAX_FILTER_VALUES} values.`,
    });
    return null;
  }
  value.forEach((item, i) => {
    if (!ok(item)) issues.push({ path: [name, i], code: `invalid_${name.replace(/s$/, '')}`, message });
  });
  return [...new Set(value)];
}

/**
 * Checks the options of `registry.searchDeliveries()` and asks the store for one page.
 * `checkScope` and `checkWebhookId` validate those as every scoped call does.
 *
 * @example
 * ```ts
 * const page = await searchDeliveries(store, 'acme', { states: ['failed'] }, (s) => s, (id) => id);
 * ```
 */
export async function searchDeliveries(
  store: Store,
  scope: string,
  options: SearchDeliveriesOptions,
  checkScope: (scope: string) => string,
  checkWebhookId: (id: number) => number,
): Promise<SearchDeliveriesResult> {
  checkOptionsObject('registry.searchDeliveries()', options);
  const validScope = checkScope(scope);
  const issues: ValidationIssue[] = [];
  const states = checkList<DeliveryState>(
    issues,
    'states',
    options.states,
    (s) => (DELIVERY_STATES as readonly unknown[]).includes(s),
    `A state is one of ${DELIVERY_STATES.join(', ')}.`,
  );
  const types = checkList<string>(
    issues,
    'types',
    options.types,
    (t) => typeof t === 'string' && t.length > 0 && t.length <= 200 && !/[*\0]/.test(t),
    'An event type is 1 to 200 characters, without "*" or NUL.',
  );
  for (const name of ['since', 'until'] as const) {
    if (options[name] !== undefined && !isDate(options[name]))
      issues.push({ path: [name], code: 'invalid_date', message: `${name} must be a valid Date.` });
  }
  if (isDate(options.since) && isDate(options.until) && options.since.getTime() >= options.until.getTime())
    issues.push({ path: ['until'], code: 'invalid_range', message: 'until must be later than since.' });
  const id = options.id;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 200 || id.includes('\0')))
    issues.push({
      path: ['id'],
      code: 'invalid_id',
      message: 'id is a delivery or notification id: 1 to 200 characters.',
    });
  const cursor = options.cursor;
  if (cursor !== undefined && (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 200))
    issues.push({
      path: ['cursor'],
      code: 'invalid_cursor',
      message: 'cursor must be the cursor of a previous page.',
    });
  const limit = options.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT)
    issues.push({
      path: ['limit'],
      code: 'invalid_number',
      message: `limit must be an integer from 1 to ${MAX_SEARCH_LIMIT}.`,
    });
  if (issues.length > 0) throw new ValidationError(issues);
  const webhookId = options.webhookId === undefined ? null : checkWebhookId(options.webhookId);
  if (typeof store.searchDeliveries !== 'function') throw unsupported('searchDeliveries', store);
  return store.searchDeliveries({
    scope: validScope,
    webhookId,
    states,
    types,
    since: options.since ?? null,
    until: options.until ?? null,
    id: id ?? null,
    cursor: cursor ?? null,
    limit,
  });
}

/**
 * Checks the options of `registry.webhookActivity()` at `now` and asks the store.
 * `listIds` gives the scope's webhook ids when `webhookIds` is not set.
 *
 * @example
 * ```ts
 * const activity = await webhookActivity(store, 'acme', {}, new Date(), (s) => s, (id) => id, async () => [1, 2]);
 * ```
 */
export async function webhookActivity(
  store: Store,
  scope: string,
  options: WebhookActivityOptions,
  now: Date,
  checkScope: (scope: string) => string,
  checkWebhookId: (id: number) => number,
  listIds: (scope: string) => Promise<number[]>,
): Promise<WebhookActivity[]> {
  checkOptionsObject('registry.webhookActivity()', options);
  const validScope = checkScope(scope);
  const issues: ValidationIssue[] = [];
  for (const name of ['since', 'until'] as const) {
    if (options[name] !== undefined && !isDate(options[name]))
      issues.push({ path: [name], code: 'invalid_date', message: `${name} must be a valid Date.` });
  }
  const until = isDate(options.until) ? options.until : now;
  const since = isDate(options.since) ? options.since : new Date(until.getTime() - 24 * HOUR_MS);
  const bucketMs = options.bucketMs ?? HOUR_MS;
  if (issues.length === 0 && since.getTime() >= until.getTime())
    issues.push({
      path: ['until'],
      code: 'invalid_range',
      message: 'until (default: now) must be later than since.',
    });
  if (!Number.isSafeInteger(bucketMs) || bucketMs < 60_000)
    issues.push({
      path: ['bucketMs'],
      code: 'invalid_number',
      message: 'bucketMs must be an integer of at least 60 000.',
    });
  else if (
    issues.length === 0 &&
    Math.ceil((until.getTime() - since.getTime()) / bucketMs) > MAX_ACTIVITY_BUCKETS
  )
    issues.push({
      path: ['bucketMs'],
      code: 'too_many_buckets',
      message: `The window holds more than ${MAX_ACTIVITY_BUCKETS} buckets of bucketMs; use longer buckets or a shorter window.`,
    });
  const ids = options.webhookIds;
  if (ids !== undefined && (!Array.isArray(ids) || ids.length > MAX_ACTIVITY_WEBHOOKS))
    issues.push({
      path: ['webhookIds'],
      code: 'invalid_webhook_ids',
      message: `webhookIds must be a list of at most ${MAX_ACTIVITY_WEBHOOKS} ids.`,
    });
  if (issues.length > 0) throw new ValidationError(issues);
  const webhookIds = ids === undefined ? await listIds(validScope) : [...new Set(ids.map(checkWebhookId))];
  if (typeof store.webhookActivity !== 'function') throw unsupported('webhookActivity', store);
  if (webhookIds.length === 0) return [];
  return store.webhookActivity({ scope: validScope, webhookIds, since, until, bucketMs });
}

/**
 * Checks the arguments of `registry.deliveryLine()` and asks the store where the delivery
 * stands in its ordered line: `null` when the scope has no such delivery, or it is not ordered
 * or not pending. `checkScope` and `checkDeliveryId` validate those as every scoped call does
 * (a bad id is a `ValidationError` with path `['deliveryId']`). Throws `store_unsupported` when
 * the store has no `deliveryLine`.
 *
 * @example
 * ```ts
 * const line = await deliveryLine(store, 'acme', 'msg_01JD…', (s) => s, (id) => id);
 * if (line?.blockedBy) console.log(`${line.ahead} ahead, waiting behind ${line.blockedBy.id}`);
 * ```
 */
export async function deliveryLine(
  store: Store,
  scope: string,
  id: string,
  checkScope: (scope: string) => string,
  checkDeliveryId: (id: string) => string,
): Promise<DeliveryLine | null> {
  const validScope = checkScope(scope);
  const validId = checkDeliveryId(id);
  if (typeof store.deliveryLine !== 'function') throw unsupported('deliveryLine', store);
  return store.deliveryLine({ scope: validScope, id: validId });
}
