import { randomFillSync } from 'node:crypto';

/** Random bytes drawn in blocks: one system call per 409 ids instead of one per id. */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

const ALPHABET = Buffer.from('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 'latin1');
const ID_CHARS = 26; // 128 bits in 5-bit characters, the last one padded
const MAX_FAST_PREFIX = 32;

/** Reused per call (ids are made synchronously): the 16 id bytes, and the id's text as bytes. */
const bytes = new Uint8Array(16);
const text = Buffer.allocUnsafe(MAX_FAST_PREFIX + 1 + ID_CHARS);

/** Fills bytes 6..15 from the random pool (a plain loop: ten bytes are cheaper than a copy call). */
function randomTail(): void {
  if (poolOffset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  for (let i = 6; i < 16; i++) bytes[i] = pool[poolOffset++] as number;
}

/** Writes the 26 base32 characters of `bytes` into `text` at `at`. */
function base32Into(at: number): void {
  let buffer = 0;
  let bits = 0;
  let out = at;
  for (let i = 0; i < bytes.length; i++) {
    buffer = ((buffer << 8) | (bytes[i] as number)) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      text[out++] = ALPHABET[(buffer >>> (bits - 5)) & 31] as number;
      bits -= 5;
    }
  }
  text[out] = ALPHABET[(buffer << (5 - bits)) & 31] as number;
}

/** Writes a short ASCII prefix into `text`; `false` (nothing usable written) for any other. */
function writePrefix(prefix: string): boolean {
  if (prefix.length > MAX_FAST_PREFIX) return false;
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    if (c > 0x7f) return false;
    text[i] = c;
  }
  return true;
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
  let t = Math.max(0, Math.floor(nowMs));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  randomTail();
  // One string, built in place: character-by-character concatenation made ~30 strings per id.
  if (!writePrefix(prefix)) {
    base32Into(0);
    return `${prefix}_${text.toString('latin1', 0, ID_CHARS)}`;
  }
  text[prefix.length] = 0x5f; // '_'
  base32Into(prefix.length + 1);
  return text.toString('latin1', 0, prefix.length + 1 + ID_CHARS);
}
