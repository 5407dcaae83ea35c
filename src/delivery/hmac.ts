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

/**
 * Base64 HMAC-SHA256 of `prefix` (as UTF-8) followed by `body`. Two one-shot hashes over the
 * padded key, in a reused buffer: `createHmac` makes a native object per call, and per attempt
 * in a busy worker that cost as much again as the hashing.
 */
export function hmacSha256Base64(k: HmacKey, prefix: string, body: Uint8Array): string {
  const room = BLOCK_BYTES + prefix.length * 3 + body.length;
  if (oneShot === undefined || room > MAX_SCRATCH_BYTES) {
    return createHmac('sha256', k.key).update(prefix, 'utf8').update(body).digest('base64');
  }
  if (scratch.length < room) scratch = Buffer.allocUnsafe(Math.min(MAX_SCRATCH_BYTES, 2 * room));
  k.innerPad.copy(scratch, 0);
  const prefixBytes = scratch.write(prefix, BLOCK_BYTES, 'utf8');
  const end = BLOCK_BYTES + prefixBytes + body.length;
  scratch.set(body, BLOCK_BYTES + prefixBytes);
  // The inner digest as latin1 text (one byte per character): a string costs less to make
  // than a Buffer, which brings its own ArrayBuffer.
  const inner = oneShot('sha256', scratch.subarray(0, end), 'latin1') as string;
  k.outerPad.copy(outerScratch, 0);
  outerScratch.write(inner, BLOCK_BYTES, 'latin1');
  return oneShot('sha256', outerScratch, 'base64') as string;
}
