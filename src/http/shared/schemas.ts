/**
 * zod schemas of hookline's extension resources (deliveries, attempts, ordering), the same in every
 * dialect. Each dialect's own resources are in its folder's `schemas.ts`. They describe what
 * the handlers accept and return and are the source of the OpenAPI documents.
 */
import { z } from 'zod';
import { ORDERING_FAILURE_MODES, ORDERINGS } from '../../model.js';

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
  next_attempt_at: z
    .string()
    .nullable()
    .describe('ISO 8601, `null` once finished, and while a pending ordered delivery waits behind its line.'),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  ordered: z
    .boolean()
    .describe(
      'Whether the delivery is in an ordered line (its webhook had `ordering: fifo` when it was emitted).',
    ),
  ordering_key: z
    .string()
    .nullable()
    .describe(
      "The line's key (the notification's `orderingKey`); `null` for the whole-webhook line and unordered deliveries.",
    ),
  pauses_line: z
    .boolean()
    .describe(
      'A failed delivery its ordered line waits behind (`on_failure: pause`) until it is redelivered.',
    ),
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

const orderingField = z
  .enum(ORDERINGS)
  .describe(
    '`none`: deliveries are attempted in parallel, in any order. `fifo`: one line per webhook, or per notification `orderingKey`; the deliveries of a line are attempted one at a time, in emit order.',
  );
const onFailureField = z
  .enum(ORDERING_FAILURE_MODES)
  .describe(
    'When a delivery of an ordered line fails for good: `continue` (the line moves on) or `pause` (the line waits until the failed delivery is redelivered).',
  );

/**
 * hookline extension: a webhook's delivery ordering (`GET|PUT {webhook}/ordering`).
 *
 * @example
 * ```ts
 * orderingSchema.parse({ ordering: 'fifo', on_failure: 'continue' });
 * ```
 */
export const orderingSchema = z.object({ ordering: orderingField, on_failure: onFailureField });

/**
 * hookline extension: the body of `PUT {webhook}/ordering` (`on_failure` omitted: unchanged).
 *
 * @example
 * ```ts
 * orderingRequestSchema.parse({ ordering: 'none' });
 * ```
 */
export const orderingRequestSchema = z.strictObject({
  ordering: orderingField,
  on_failure: onFailureField.optional().describe('Omitted: unchanged.'),
});
