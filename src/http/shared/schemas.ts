/**
 * zod schemas of hookline's extension resources (deliveries, attempts), the same in every
 * dialect. Each dialect's own resources are in its folder's `schemas.ts`. They describe what
 * the handlers accept and return and are the source of the OpenAPI documents.
 */
import { z } from 'zod';

const deliveryState = z.enum(['pending', 'succeeded', 'failed', 'canceled']);

/** hookline extension: a delivery. */
export const deliverySchema = z.object({
  id: z.string().describe('Stable delivery id, sent as the `webhook-id` header.'),
  webhook: z
    .union([z.number().int(), z.string(), z.null()])
    .describe('The pretix id or the Taler `webhook_id`.'),
  notification_id: z.string(),
  type: z.string().describe('The event type of the notification.'),
  event: z.string().nullable(),
  state: deliveryState,
  attempt_count: z.number().int(),
  next_attempt_at: z.string().nullable().describe('ISO 8601, `null` once finished.'),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  request: z.object({
    url: z.string(),
    method: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
  }),
});

/** hookline extension: one attempt of a delivery. */
export const attemptSchema = z.object({
  id: z.number().int(),
  delivery_id: z.string(),
  attempt_number: z.number().int(),
  retry: z.boolean(),
  started_at: z.string(),
  duration_ms: z.number(),
  status: z.number().int().describe('HTTP status, 0 for a transport error.'),
  ok: z.boolean(),
  error: z.string().nullable(),
  response_body: z.string(),
  response_headers: z.record(z.string(), z.string()),
});
