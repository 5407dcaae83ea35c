/**
 * The data the conformance suite builds its cases from: webhook fields, deliveries, attempts,
 * and the fixed instants the cases run at. Nothing here imports vitest.
 *
 * @module
 */
import type { OutgoingRequest, WebhookFields } from '../../model.js';
import type {
  AttemptData,
  NewDelivery,
  RecordAttemptInput,
  RecordAttemptResult,
  Store,
} from '../../stores/types.js';

/** The instant most cases run at: 2026-01-01T00:00:00Z. */
export const T0 = new Date('2026-01-01T00:00:00.000Z');

/** One minute after {@link T0}. */
export const T1 = new Date('2026-01-01T00:01:00.000Z');

/**
 * The instant `ms` milliseconds after {@link T0} (before it when negative).
 *
 * @example
 * ```ts
 * at(5_000); // 2026-01-01T00:00:05.000Z
 * ```
 */
export const at = (ms: number): Date => new Date(T0.getTime() + ms);

/**
 * Complete writable fields for a test webhook, with overrides. Defaults: enabled, no key,
 * `POST https://receiver.example/hook`, all events (`eventTypes: ['pretix.event.order.paid']`),
 * no templates, no comment, no secrets, unordered (`ordering: 'none'`, `orderingOnFailure: 'continue'`).
 *
 * @example
 * ```ts
 * const hook = await store.insertWebhook({ scope: 'acme', fields: webhookFields({ key: 'k1' }), now: new Date() });
 * ```
 */
export function webhookFields(overrides: Partial<WebhookFields> = {}): WebhookFields {
  return {
    key: null,
    enabled: true,
    url: 'https://receiver.example/hook',
    method: 'POST',
    eventTypes: ['pretix.event.order.paid'],
    allEvents: true,
    limitEvents: [],
    headerTemplate: null,
    bodyTemplate: null,
    templateEscape: null,
    comment: null,
    secrets: [],
    ordering: 'none',
    orderingOnFailure: 'continue',
    ...overrides,
  };
}

let deliverySeq = 0;

/**
 * A delivery to enqueue in tests, with overrides; ids are unique within the process. Defaults:
 * type `pretix.event.order.paid`, event `democon`, a JSON `POST https://receiver.example/hook`
 * whose body (`{"n":<sequence>}`) differs per call, no `failure`.
 *
 * @example
 * ```ts
 * await store.enqueue({ scope: 'acme', notificationId: 'n1', deliveries: [newDelivery(hook.id)], now: new Date() });
 * ```
 */
export function newDelivery(webhookId: number, overrides: Partial<NewDelivery> = {}): NewDelivery {
  deliverySeq += 1;
  const request: OutgoingRequest = {
    url: 'https://receiver.example/hook',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"n":${deliverySeq}}`,
  };
  return {
    id: `msg_test_${process.pid}_${Date.now()}_${deliverySeq}`,
    webhookId,
    type: 'pretix.event.order.paid',
    event: 'democon',
    request,
    ...overrides,
  };
}

/**
 * What one HTTP try produced, started at `startedAt`, with overrides. Defaults: a successful
 * `200` that took 12 ms, body `ok`, header `content-type: text/plain`, no error.
 *
 * @example
 * ```ts
 * attemptData(at(0), { ok: false, status: 500, error: 'HTTP 500' });
 * ```
 */
export function attemptData(startedAt: Date, overrides: Partial<AttemptData> = {}): AttemptData {
  return {
    startedAt,
    durationMs: 12,
    status: 200,
    ok: true,
    error: null,
    responseBody: 'ok',
    responseHeaders: { 'content-type': 'text/plain' },
    ...overrides,
  };
}

/**
 * Records one attempt with `recordAttempts` (a batch of one) and returns its result. Throws
 * when the store does not return exactly one result.
 *
 * @example
 * ```ts
 * const { applied } = await recordOne(store, { deliveryId, leaseToken, attempt: attemptData(at(0)), outcome: { state: 'succeeded' }, now: at(1) });
 * ```
 */
export async function recordOne(store: Store, item: RecordAttemptInput): Promise<RecordAttemptResult> {
  const results = await store.recordAttempts({ items: [item] });
  const [result] = results;
  if (results.length !== 1 || result === undefined) {
    throw new Error(`recordAttempts of one item returned ${results.length} results, expected 1`);
  }
  return result;
}

/**
 * Inserts an enabled webhook with the default {@link webhookFields} in `scope` (default
 * `acme`) at {@link T0} and returns its id.
 *
 * @example
 * ```ts
 * const webhookId = await insertHook(store);
 * ```
 */
export async function insertHook(store: Store, scope = 'acme'): Promise<number> {
  const hook = await store.insertWebhook({ scope, fields: webhookFields(), now: T0 });
  return hook.id;
}

/**
 * Inserts a webhook in scope `acme` ({@link insertHook}) and enqueues one delivery of it,
 * due at {@link T0} (notification id `n`); returns both.
 *
 * @example
 * ```ts
 * const { webhookId, delivery } = await enqueueOne(store);
 * const [claim] = await store.claimDue({ limit: 1, leaseMs: 100, now: at(0) });
 * ```
 */
export async function enqueueOne(store: Store): Promise<{ webhookId: number; delivery: NewDelivery }> {
  const webhookId = await insertHook(store);
  const delivery = newDelivery(webhookId);
  await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [delivery], now: at(0) });
  return { webhookId, delivery };
}

/**
 * Enqueues one new delivery for each of `webhookIds` (repeat an id for several) as notification
 * `notificationId` of `scope`, due at `now`; returns them.
 *
 * @example
 * ```ts
 * const [first, second] = await enqueueAt(store, 'acme', 'n1', [webhookId, webhookId], at(0));
 * ```
 */
export async function enqueueAt(
  store: Store,
  scope: string,
  notificationId: string,
  webhookIds: readonly number[],
  now: Date,
): Promise<NewDelivery[]> {
  const deliveries = webhookIds.map((id) => newDelivery(id));
  await store.enqueue({ scope, notificationId, deliveries, now });
  return deliveries;
}
