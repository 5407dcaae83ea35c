import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';

/**
 * `crypto.hash()`: a one-shot digest with no `Hash` object behind it (Node 20.12+ and 21.7+).
 * Undefined on older Node 20 releases, which then use `createHmac`.
 */
type OneShotHash = (algorithm: string, data: Uint8Array, outputEncoding: string) => string | Buffer;
const oneShot = (nodeCrypto as { hash?: OneShotHash }).hash;

const BLOCK_BYTES = 64; // SHA-256's block
const DIGEST_BYTES = 32;
/** Messages longer than this go through `createHmac`, so the scratch buffer stays small. */
const MAX_SCRATCH_BYTES = 64 * 1024;

/** An HMAC-SHA256 key with its inner and outer pads computed once (RFC 2104). */
export interface HmacKey {
  readonly key: Buffer;
  readonly innerPad: Buffer;
  readonly outerPad: Buffer;
}

/** Prepares `key` for {@link hmacSha256Base64}. */
export function hmacKey(key: Buffer): HmacKey {
  const block = key.length > BLOCK_BYTES ? createHash('sha256').update(key).digest() : key;
  const innerPad = Buffer.alloc(BLOCK_BYTES, 0x36);
  const outerPad = Buffer.alloc(BLOCK_BYTES, 0x5c);
  for (let i = 0; i < block.length; i++) {
    innerPad[i] = (innerPad[i] as number) ^ (block[i] as number);
    outerPad[i] = (outerPad[i] as number) ^ (block[i] as number);
  }
  return { key, innerPad, outerPad };
}

let scratch = Buffer.allocUnsafe(4096);
const outerScratch = Buffer.allocUnsafe(BLOCK_BYTES + DIGEST_BYTES);
/** The keys whose pads are in the scratch buffers now (most workers sign with one secret). */
let innerKey: HmacKey | undefined;
let outerKey: HmacKey | undefined;

/** Writes `text` at `at` if it is ASCII; returns the end, or -1 (nothing usable written). */
function writeAscii(text: string, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return -1;
    scratch[at + i] = c;
  }
  return at + text.length;
}

/**
 * Base64 HMAC-SHA256 of `prefix` (as UTF-8) followed by `body`. Two one-shot hashes over the
 * padded key, in a reused buffer: `createHmac` makes a native object per call, and per attempt
 * in a busy worker that cost as much again as the hashing. The pads stay in place between calls
 * with the same key, and an ASCII prefix is copied in a loop rather than by an encoder call.
 */
export function hmacSha256Base64(k: HmacKey, prefix: string, body: Uint8Array): string {
  const room = BLOCK_BYTES + prefix.length * 3 + body.length;
  if (oneShot === undefined || room > MAX_SCRATCH_BYTES) {
    return createHmac('sha256', k.key).update(prefix, 'utf8').update(body).digest('base64');
  }
  if (scratch.length < room) {
    scratch = Buffer.allocUnsafe(Math.min(MAX_SCRATCH_BYTES, 2 * room));
    innerKey = undefined;
  }
  if (innerKey !== k) {
    scratch.set(k.innerPad, 0);
    innerKey = k;
  }
  let at = writeAscii(prefix, BLOCK_BYTES);
  if (at < 0) at = BLOCK_BYTES + scratch.write(prefix, BLOCK_BYTES, 'utf8');
  scratch.set(body, at);
  // The inner digest as latin1 text (one byte per character): a string costs less to make
  // than a Buffer, which brings its own ArrayBuffer.
  const inner = oneShot('sha256', scratch.subarray(0, at + body.length), 'latin1') as string;
  if (outerKey !== k) {
    outerScratch.set(k.outerPad, 0);
    outerKey = k;
  }
  for (let i = 0; i < DIGEST_BYTES; i++) outerScratch[BLOCK_BYTES + i] = inner.charCodeAt(i);
  return oneShot('sha256', outerScratch, 'base64') as string;
}
