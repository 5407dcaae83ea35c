import { randomFillSync } from 'node:crypto';

/** Random bytes drawn in blocks: one system call per 409 ids instead of one per id. */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

function randomInto(target: Uint8Array, offset: number, length: number): void {
  if (poolOffset + length > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  pool.copy(target, offset, poolOffset, poolOffset + length);
  poolOffset += length;
}

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
  randomInto(bytes, 6, 10);
  return `${prefix}_${base32(bytes).slice(0, 26)}`;
}
