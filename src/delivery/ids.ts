import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * A new time-ordered, URL-safe id with a prefix: 48 bits of milliseconds then 80 random bits,
 * Crockford base32 (ULID layout). Delivery ids use `msg_` (the Standard Webhooks convention for
 * `webhook-id`); notification ids made by hookline use `ntf_`.
 *
 * @example
 * ```ts
 * createId('msg'); // 'msg_01JDQ7Z6W2Q0M9X4B8A5T3K7RS'
 * ```
 */
export function createId(prefix: string, nowMs: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  let t = Math.max(0, Math.floor(nowMs));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes.set(randomBytes(10), 6);
  return `${prefix}_${base32(bytes).slice(0, 26)}`;
}
