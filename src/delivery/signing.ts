import { createHmac } from 'node:crypto';

/** Input to {@link signWebhook}. */
export interface SignInput {
  /** The delivery's stable id (the `webhook-id` header), the same across retries. */
  id: string;
  /** Seconds since the epoch of this attempt (the `webhook-timestamp` header). */
  timestamp: number;
  /** The exact body bytes sent. */
  body: string | Uint8Array;
  /** Secrets to sign with: `whsec_<base64>` (HMAC-SHA256, `v1`). */
  secrets: readonly string[];
}

/**
 * Computes the Standard Webhooks `webhook-signature` header value: one space-separated
 * `v1,<base64>` entry per secret.
 *
 * @example
 * ```ts
 * signWebhook({ id: 'msg_1', timestamp: 1614265330, body: '{}', secrets: ['whsec_...'] });
 * ```
 */
export function signWebhook(input: SignInput): string {
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  const prefix = Buffer.from(`${input.id}.${input.timestamp}.`, 'utf8');
  return input.secrets
    .map((secret) => {
      const key = Buffer.from(secret.slice(secret.indexOf('_') + 1), 'base64');
      const mac = createHmac('sha256', key).update(prefix).update(body).digest('base64');
      return `v1,${mac}`;
    })
    .join(' ');
}
