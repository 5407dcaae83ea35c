/**
 * zod schemas of the GNU Taler merchant wire format: what the handler accepts and returns, and
 * the source of its OpenAPI document (`z.toJSONSchema`).
 */
import { z } from 'zod';
import { attemptSchema, deliverySchema } from '../shared/schemas.js';

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
