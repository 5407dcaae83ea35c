/**
 * zod schemas of both wire formats. They describe what the handlers accept and return and are
 * the source of the OpenAPI documents (`z.toJSONSchema`).
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

/** A pretix webhook resource. */
export const pretixWebhookSchema = z.object({
  id: z.number().int().describe('Internal ID of the webhook'),
  enabled: z.boolean().describe('If false, this webhook will not receive any notifications'),
  target_url: z.string().max(1024).describe('The URL to call'),
  all_events: z
    .boolean()
    .describe('If true, this webhook receives notifications on all events of this organizer'),
  limit_events: z
    .array(z.string())
    .describe('If all_events is false, the event slugs this webhook is active for'),
  action_types: z.array(z.string()).describe('Action types this webhook receives, sorted'),
  comment: z.string().max(255).nullable().describe('Internal comment, default null'),
});

/** The body of a pretix POST or PUT (`target_url` and `action_types` required). */
export const pretixWebhookInputSchema = z.object({
  enabled: z.boolean().default(true).optional(),
  target_url: z.string().max(1024),
  all_events: z.boolean().default(true).optional(),
  limit_events: z.array(z.string()).optional(),
  action_types: z.array(z.string()),
  comment: z.string().max(255).nullable().optional(),
});

/** The body of a pretix PATCH (every field optional). */
export const pretixWebhookPatchSchema = pretixWebhookInputSchema.partial();

/** A pretix list page. */
export const pretixPageSchema = (item: z.ZodType) =>
  z.object({
    count: z.number().int(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(item),
  });

/** pretix's `{"detail": "..."}` error. */
export const pretixDetailSchema = z.object({ detail: z.string() });

/** pretix's 400 body: field name (or `non_field_errors`) to messages. */
export const pretixFieldErrorsSchema = z.record(z.string(), z.array(z.string()));

/** Taler's `WebhookAddDetails`. */
export const talerWebhookAddSchema = z.object({
  webhook_id: z.string().describe('Webhook ID to use.'),
  event_type: z.string().describe('The event of the webhook: why the webhook is used.'),
  url: z.string().describe('URL of the webhook.'),
  http_method: z.string().describe('Method used by the webhook'),
  header_template: z.string().optional().describe('Header template of the webhook'),
  body_template: z.string().optional().describe('Body template by the webhook'),
});

/** Taler's `WebhookPatchDetails` (an omitted template is cleared). */
export const talerWebhookPatchSchema = talerWebhookAddSchema.omit({ webhook_id: true });

/** Taler's `WebhookDetails` (GET one). */
export const talerWebhookDetailsSchema = talerWebhookPatchSchema;

/** Taler's `WebhookSummaryResponse` (GET list). */
export const talerWebhookSummarySchema = z.object({
  webhooks: z.array(z.object({ webhook_id: z.string(), event_type: z.string() })),
});

/** Taler's `ErrorDetail`. */
export const talerErrorSchema = z.object({
  code: z.number().int(),
  hint: z.string(),
  detail: z.string().optional(),
  field: z.string().optional(),
});

/** hookline extension (Taler): a page of deliveries. */
export const talerDeliveriesSchema = z.object({
  count: z.number().int(),
  deliveries: z.array(deliverySchema),
});
/** hookline extension (Taler): a page of attempts. */
export const talerAttemptsSchema = z.object({ count: z.number().int(), attempts: z.array(attemptSchema) });
