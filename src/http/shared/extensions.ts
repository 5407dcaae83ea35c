/** hookline's own additions to both dialects: the delivery log, redelivery and test pings. */
import type { Attempt, Delivery } from '../../model.js';
import { isoOrNull } from './common.js';

/** Page size of the delivery and attempt lists. */
export const EXTENSION_PAGE_SIZE = 50;

/** A delivery on the wire (both dialects). `webhook` is the pretix id or the Taler `webhook_id`. */
export interface DeliveryJson {
  id: string;
  webhook: number | string | null;
  notification_id: string;
  type: string;
  event: string | null;
  state: Delivery['state'];
  attempt_count: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  request: { url: string; method: string; headers: Record<string, string>; body: string };
}

/** An attempt on the wire (both dialects). */
export interface AttemptJson {
  id: number;
  delivery_id: string;
  attempt_number: number;
  retry: boolean;
  started_at: string;
  duration_ms: number;
  status: number;
  ok: boolean;
  error: string | null;
  response_body: string;
  response_headers: Record<string, string>;
}

/** Serializes a delivery; `webhook` is how the dialect names its webhook. */
export function toDeliveryJson(delivery: Delivery, webhook: number | string | null): DeliveryJson {
  return {
    id: delivery.id,
    webhook,
    notification_id: delivery.notificationId,
    type: delivery.type,
    event: delivery.event,
    state: delivery.state,
    attempt_count: delivery.attemptCount,
    next_attempt_at: isoOrNull(delivery.nextAttemptAt),
    last_status: delivery.lastStatus,
    last_error: delivery.lastError,
    created_at: delivery.createdAt.toISOString(),
    updated_at: delivery.updatedAt.toISOString(),
    request: {
      url: delivery.request.url,
      method: delivery.request.method,
      headers: { ...delivery.request.headers },
      body: delivery.request.body,
    },
  };
}

/** Serializes an attempt. */
export function toAttemptJson(attempt: Attempt): AttemptJson {
  return {
    id: attempt.id,
    delivery_id: attempt.deliveryId,
    attempt_number: attempt.attemptNumber,
    retry: attempt.retry,
    started_at: attempt.startedAt.toISOString(),
    duration_ms: attempt.durationMs,
    status: attempt.status,
    ok: attempt.ok,
    error: attempt.error,
    response_body: attempt.responseBody,
    response_headers: { ...attempt.responseHeaders },
  };
}
