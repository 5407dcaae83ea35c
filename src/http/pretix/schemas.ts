/**
 * zod schemas of the pretix wire format: what the handler accepts and returns, and the source
 * of its OpenAPI document (`z.toJSONSchema`).
 */
import { z } from 'zod';

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
