/**
 * hookline's `node:diagnostics_channel` channels: what happens inside the registry and the
 * worker, for hosts without OpenTelemetry (the way undici and `node:http` publish theirs).
 * Nothing is built or published while a channel has no subscriber: each publish site checks
 * `channel.hasSubscribers` first, one property read.
 *
 * Messages are plain objects made for each publish; subscribers may keep them. They carry ids,
 * types and outcomes, never a signing secret, a request body or a response body, and a target
 * URL without its `user:password@` part.
 *
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { DisabledReason } from '../model.js';

/**
 * The names of hookline's diagnostics channels.
 *
 * | name | published when | message |
 * |---|---|---|
 * | `hookline:emit` | `registry.emit()` stored its deliveries | {@link EmitMessage} |
 * | `hookline:attempt:start` | the worker is about to send an attempt | {@link AttemptStartMessage} |
 * | `hookline:attempt:end` | an attempt finished and its outcome is decided | {@link AttemptEndMessage} |
 * | `hookline:delivery:outcome` | the worker recorded a delivery's final state | {@link DeliveryOutcomeMessage} |
 * | `hookline:webhook:disabled` | a webhook was disabled (by hand, a 410 or failing) | {@link WebhookDisabledMessage} |
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * import { CHANNELS, type AttemptEndMessage } from 'hookline';
 *
 * diagnosticsChannel.subscribe(CHANNELS.attemptEnd, (message) => {
 *   const { deliveryId, status, durationMs } = message as AttemptEndMessage;
 *   console.log(deliveryId, status, durationMs);
 * });
 * ```
 */
export const CHANNELS = Object.freeze({
  emit: 'hookline:emit',
  attemptStart: 'hookline:attempt:start',
  attemptEnd: 'hookline:attempt:end',
  deliveryOutcome: 'hookline:delivery:outcome',
  webhookDisabled: 'hookline:webhook:disabled',
} as const);

/**
 * Published on `hookline:emit` once `registry.emit()` has stored its deliveries (or found the
 * notification stored before: `created: false`).
 *
 * @example
 * ```ts
 * const message: EmitMessage = { scope: 'acme', type: 'order.paid', event: null, notificationId: 'ntf_1', deliveryIds: ['msg_1'], created: true, startedAt: new Date(), durationMs: 1 };
 * ```
 */
export interface EmitMessage {
  scope: string;
  type: string;
  event: string | null;
  notificationId: string;
  /** The ids of the deliveries stored (those of the first emit when `created` is false). */
  deliveryIds: readonly string[];
  /** False when this notification id had been emitted in the scope before: nothing new was stored. */
  created: boolean;
  /** When `emit()` started, by the registry's clock. */
  startedAt: Date;
  /** How long `emit()` took until its deliveries were stored, in ms (by the registry's clock). */
  durationMs: number;
}

/**
 * Published on `hookline:attempt:start` just before the worker sends an attempt.
 *
 * @example
 * ```ts
 * const message: AttemptStartMessage = { deliveryId: 'msg_1', notificationId: 'ntf_1', scope: 'acme', webhookId: 1, type: 'order.paid', attempt: 1, method: 'POST', url: 'https://example.com/hook', dueAt: new Date(), startedAt: new Date() };
 * ```
 */
export interface AttemptStartMessage {
  deliveryId: string;
  notificationId: string;
  scope: string;
  webhookId: number;
  /** The notification's type. */
  type: string;
  /** 1-based number of this attempt of the delivery (since it was last redelivered). */
  attempt: number;
  method: string;
  /** The target URL without `user:password@`. */
  url: string;
  /** When the attempt was due: `startedAt − dueAt` is how far behind the workers are. */
  dueAt: Date | null;
  startedAt: Date;
}

/**
 * Published on `hookline:attempt:end` when an attempt has finished and its outcome is decided
 * (before it is recorded).
 *
 * @example
 * ```ts
 * // { ...start, status: 503, durationMs: 12, error: null, classification: 'retryable',
 * //   state: 'pending', nextAttemptAt: Date }
 * ```
 */
export interface AttemptEndMessage extends AttemptStartMessage {
  /** The HTTP status, 0 when no complete response arrived. */
  status: number;
  durationMs: number;
  /** Why no usable answer came (`timeout`, `connect_failed`, `ssrf_blocked`, …), or null. */
  error: { code: string; message: string } | null;
  classification: 'success' | 'retryable' | 'permanent' | 'gone';
  /** Where the delivery goes: `succeeded`, `pending` (retried at `nextAttemptAt`) or `failed`. */
  state: 'succeeded' | 'pending' | 'failed';
  nextAttemptAt: Date | null;
}

/**
 * Published on `hookline:delivery:outcome` when the worker has recorded a delivery's final
 * state: `succeeded`, `failed` (with the reason: `exhausted`, `permanent` or `gone`) or
 * `canceled` (its webhook was disabled or removed while the worker held it). Deliveries that
 * a webhook's disabling cancels in bulk are not announced one by one; `hookline:webhook:disabled`
 * tells of that.
 *
 * @example
 * ```ts
 * const message: DeliveryOutcomeMessage = { deliveryId: 'msg_1', notificationId: 'ntf_1', scope: 'acme', webhookId: 1, type: 'order.paid', state: 'failed', reason: 'exhausted', attempts: 8, createdAt: new Date(), at: new Date() };
 * ```
 */
export interface DeliveryOutcomeMessage {
  deliveryId: string;
  notificationId: string;
  scope: string;
  webhookId: number;
  type: string;
  state: 'succeeded' | 'failed' | 'canceled';
  /** Why it failed or was canceled; null when it succeeded. */
  reason: string | null;
  /** Attempts made (since it was last redelivered). */
  attempts: number;
  /** When the delivery was created (its notification emitted): `at − createdAt` is its end-to-end time. */
  createdAt: Date;
  /** When the final state was recorded. */
  at: Date;
}

/**
 * Published on `hookline:webhook:disabled` after a webhook was disabled: `manual` (through
 * `registry.disable()` or the HTTP API), `gone` (it answered 410) or `failing` (the worker's
 * auto-disable limits).
 *
 * @example
 * ```ts
 * const message: WebhookDisabledMessage = { scope: 'acme', webhookId: 1, reason: 'gone' };
 * ```
 */
export interface WebhookDisabledMessage {
  scope: string;
  webhookId: number;
  reason: DisabledReason;
}

/** The channel objects, made once (`diagnostics_channel.channel` returns the same object per name). */
export const emitChannel = diagnosticsChannel.channel(CHANNELS.emit);
export const attemptStartChannel = diagnosticsChannel.channel(CHANNELS.attemptStart);
export const attemptEndChannel = diagnosticsChannel.channel(CHANNELS.attemptEnd);
export const deliveryOutcomeChannel = diagnosticsChannel.channel(CHANNELS.deliveryOutcome);
export const webhookDisabledChannel = diagnosticsChannel.channel(CHANNELS.webhookDisabled);

/**
 * `url` without its `user:password@` part (and unchanged when it has none, or does not parse).
 * Only called while someone subscribes.
 */
export function withoutCredentials(url: string): string {
  if (!url.includes('@')) return url;
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url;
  }
}
