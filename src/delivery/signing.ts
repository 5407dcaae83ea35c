/**
 * Standard Webhooks signing and verification (https://www.standardwebhooks.com/).
 *
 * Every request carries three headers:
 * - `webhook-id`: the delivery's stable id, the same across retries;
 * - `webhook-timestamp`: integer seconds since the epoch of this attempt;
 * - `webhook-signature`: space-separated entries, one per signing key:
 *   `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for a symmetric `whsec_` secret, and
 *   `v1a,<base64 ed25519 signature of "id.timestamp.body">` for an asymmetric `whsk_` key.
 *
 * Key formats accepted (all base64, standard alphabet, padding optional):
 * - `whsec_<base64>`: symmetric HMAC secret, any non-empty length (24–64 bytes recommended).
 * - `whsk_<base64>`: ed25519 secret key, either the raw 32-byte seed or the 64-byte
 *   libsodium form (seed followed by the public key, which must match the seed).
 * - `whpk_<base64>`: ed25519 public key, the raw 32 bytes.
 *
 * @module
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { HooklineError, type HooklineErrorOptions, ValidationError } from '../errors.js';
import { BoundedCache } from '../util/bounded-cache.js';
import { type HmacKey, hmacKey, hmacSha256Base64 } from './hmac.js';

/** Prefix of a symmetric (HMAC-SHA256) secret. */
export const SECRET_PREFIX = 'whsec_';
/** Prefix of an ed25519 secret (signing) key. */
export const SECRET_KEY_PREFIX = 'whsk_';
/** Prefix of an ed25519 public (verifying) key. */
export const PUBLIC_KEY_PREFIX = 'whpk_';

/** Default timestamp tolerance of {@link verifyWebhook}, in seconds (5 minutes, as in the spec). */
export const DEFAULT_TOLERANCE_SEC = 300;

/**
 * Why a signature check failed.
 * - `missing_headers`: `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent or empty.
 * - `invalid_timestamp`: `webhook-timestamp` is not an integer number of seconds.
 * - `timestamp_too_old` / `timestamp_too_new`: outside the tolerance window around `now`.
 * - `no_matching_signature`: no signature entry matches any of the given secrets.
 * - `invalid_secret`: a secret or key is malformed, of the wrong kind, or none was given.
 */
export type SignatureFailureReason =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'invalid_secret';

/**
 * A webhook signature could not be produced or verified. `code` is `signature_invalid`;
 * `reason` says why (see {@link SignatureFailureReason}).
 *
 * @example
 * ```ts
 * try {
 *   verifyWebhook({ body, headers, secrets: ['whsec_...'] });
 * } catch (err) {
 *   if (err instanceof SignatureError) return new Response(err.reason, { status: 401 });
 *   throw err;
 * }
 * ```
 */
export class SignatureError extends HooklineError {
  static override readonly kind: string = 'SignatureError';
  /** The machine-readable reason of the failure. */
  readonly reason: SignatureFailureReason;

  constructor(reason: SignatureFailureReason, message: string, options: HooklineErrorOptions = {}) {
    super('signature_invalid', message, options);
    this.reason = reason;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason };
  }
}

/** Input to {@link signWebhook} and {@link webhookHeaders}. */
export interface SignInput {
  /** The delivery's stable id (the `webhook-id` header), the same across retries. */
  id: string;
  /** Seconds since the epoch of this attempt (the `webhook-timestamp` header). A non-negative integer. */
  timestamp: number;
  /** The exact body bytes sent. A string is encoded as UTF-8. */
  body: string | Uint8Array;
  /**
   * Keys to sign with, in order: `whsec_<base64>` (HMAC-SHA256, `v1` entry) and/or
   * `whsk_<base64>` (ed25519, `v1a` entry). Pass several during a rotation.
   */
  secrets: readonly string[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// DER prefixes that wrap a raw ed25519 seed (PKCS#8) and public key (SPKI).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function decodeBase64(text: string): Buffer | null {
  if (!BASE64.test(text) || text.length % 4 === 1) return null;
  return Buffer.from(text, 'base64');
}

function describe(secret: string): string {
  const underscore = secret.indexOf('_');
  return underscore > 0 && underscore < 8 ? `a ${secret.slice(0, underscore + 1)} key` : 'a key';
}

type SigningKey = { kind: 'hmac'; key: Buffer; prepared: HmacKey } | { kind: 'ed25519'; key: KeyObject };
type VerifyingKey = { kind: 'hmac'; key: Buffer } | { kind: 'ed25519'; key: KeyObject };

function invalidSecret(index: number, message: string): SignatureError {
  return new SignatureError('invalid_secret', `secrets[${index}]: ${message}`);
}

function hmacSecret(secret: string, index: number): Buffer {
  const key = decodeBase64(secret.slice(SECRET_PREFIX.length));
  if (key === null || key.length === 0) {
    throw invalidSecret(index, 'a whsec_ secret must be followed by non-empty base64.');
  }
  return key;
}

function ed25519PrivateKey(secret: string, index: number): KeyObject {
  const raw = decodeBase64(secret.slice(SECRET_KEY_PREFIX.length));
  if (raw === null || (raw.length !== 32 && raw.length !== 64)) {
    throw invalidSecret(
      index,
      'a whsk_ key must be base64 of a 32-byte ed25519 seed or 64-byte seed+public key.',
    );
  }
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, raw.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  if (raw.length === 64 && !rawPublicKey(createPublicKey(key)).equals(raw.subarray(32))) {
    throw invalidSecret(index, 'the public half of this 64-byte whsk_ key does not match its seed.');
  }
  return key;
}

function ed25519PublicKey(secret: string, index: number): KeyObject {
  const raw = decodeBase64(secret.slice(PUBLIC_KEY_PREFIX.length));
  if (raw === null || raw.length !== 32) {
    throw invalidSecret(index, 'a whpk_ key must be base64 of a 32-byte ed25519 public key.');
  }
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new SignatureError('invalid_secret', `secrets[${index}]: not a valid ed25519 public key.`, {
      cause,
    });
  }
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
}

/**
 * Decoded signing keys by secret text, so a busy worker decodes each secret once instead of on
 * every attempt (base64 decode plus the HMAC key preparation, or an ed25519 `createPrivateKey`).
 * Bound: 1 000 secrets (one or two per webhook being delivered to); emptied when full.
 * Benchmark: bench/deliver (signed deliveries).
 */
const signingKeyCache = new BoundedCache<string, SigningKey>(1000);

function parseSigningKeys(secrets: readonly string[]): SigningKey[] {
  return secrets.map(signingKey);
}

function signingKey(secret: string, index: number): SigningKey {
  const cached = signingKeyCache.get(secret);
  if (cached) return cached;
  let key: SigningKey | undefined;
  if (typeof secret === 'string' && secret.startsWith(SECRET_PREFIX)) {
    const raw = hmacSecret(secret, index);
    key = { kind: 'hmac', key: raw, prepared: hmacKey(raw) };
  } else if (typeof secret === 'string' && secret.startsWith(SECRET_KEY_PREFIX)) {
    key = { kind: 'ed25519', key: ed25519PrivateKey(secret, index) };
  }
  if (key) return signingKeyCache.set(secret, key);
  const what = typeof secret === 'string' ? describe(secret) : `a ${typeof secret}`;
  throw invalidSecret(index, `expected a whsec_ secret or a whsk_ secret key, got ${what}.`);
}

/** Smallest HMAC secret accepted when a webhook is written, in bytes (128 bits). */
export const MIN_SECRET_BYTES = 16;

/**
 * Checks a signing secret the way signing will use it (`whsec_` HMAC secret of at least 16
 * bytes, or `whsk_` ed25519 key of 32 or 64 bytes whose public half matches). Returns a message
 * for the user, or `undefined` when the secret is usable. The registry runs it when a webhook is
 * written, so a bad secret is refused then and never fails a delivery.
 *
 * @example
 * ```ts
 * checkSigningSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'); // undefined
 * checkSigningSecret('whsec_AAAA'); // 'A whsec_ secret must decode to at least 16 bytes.'
 * ```
 */
export function checkSigningSecret(secret: string): string | undefined {
  try {
    const [key] = parseSigningKeys([secret]);
    if (key?.kind === 'hmac' && key.key.length < MIN_SECRET_BYTES) {
      return `A whsec_ secret must decode to at least ${MIN_SECRET_BYTES} bytes.`;
    }
    return undefined;
  } catch (error) {
    return error instanceof SignatureError ? error.message.replace(/^secrets\[0\]: /, '') : String(error);
  }
}

function parseVerifyingKeys(secrets: readonly string[]): VerifyingKey[] {
  if (secrets.length === 0) {
    throw new SignatureError('invalid_secret', 'No secrets given: pass at least one whsec_ or whpk_ key.');
  }
  return secrets.map((secret, index): VerifyingKey => {
    if (typeof secret === 'string' && secret.startsWith(SECRET_PREFIX)) {
      return { kind: 'hmac', key: hmacSecret(secret, index) };
    }
    if (typeof secret === 'string' && secret.startsWith(PUBLIC_KEY_PREFIX)) {
      return { kind: 'ed25519', key: ed25519PublicKey(secret, index) };
    }
    if (typeof secret === 'string' && secret.startsWith(SECRET_KEY_PREFIX)) {
      throw invalidSecret(index, 'a whsk_ secret key signs; verify with its whpk_ public key instead.');
    }
    const what = typeof secret === 'string' ? describe(secret) : `a ${typeof secret}`;
    throw invalidSecret(index, `expected a whsec_ secret or a whpk_ public key, got ${what}.`);
  });
}

function signedContent(id: string, timestamp: number | string, body: string | Uint8Array): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), bytes]);
}

function checkSignInput(input: SignInput): void {
  const idOk = typeof input.id === 'string' && input.id.length > 0;
  if (idOk && Number.isSafeInteger(input.timestamp) && input.timestamp >= 0) return;
  const issues: ValidationError['issues'] = [];
  if (!idOk) {
    issues.push({ path: ['id'], code: 'invalid_id', message: 'The webhook id must be a non-empty string.' });
  }
  if (!Number.isSafeInteger(input.timestamp) || input.timestamp < 0) {
    issues.push({
      path: ['timestamp'],
      code: 'invalid_timestamp',
      message: 'The timestamp must be a non-negative integer number of seconds since the epoch.',
    });
  }
  if (issues.length > 0) throw new ValidationError(issues);
}

/**
 * Computes the Standard Webhooks `webhook-signature` header value: one space-separated entry
 * per secret, in the order given: `v1,<base64 HMAC-SHA256>` for a `whsec_` secret and
 * `v1a,<base64 ed25519 signature>` for a `whsk_` key. The signed content is the exact bytes
 * `${id}.${timestamp}.` followed by `body` (a string body is encoded as UTF-8). Returns `''`
 * when `secrets` is empty.
 *
 * @throws {SignatureError} `invalid_secret` when a secret is malformed or is a `whpk_` public key.
 * @throws {ValidationError} when `id` is empty or `timestamp` is not a non-negative integer.
 *
 * @example
 * ```ts
 * signWebhook({ id: 'msg_1', timestamp: 1614265330, body: '{}', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] });
 * // => 'v1,...'
 * ```
 */
export function signWebhook(input: SignInput): string {
  checkSignInput(input);
  const { secrets, body } = input;
  const prefix = `${input.id}.${input.timestamp}.`;
  let content: Buffer | undefined;
  let signature = '';
  // A loop rather than map/join: this runs once per attempt, almost always with one secret.
  for (let i = 0; i < secrets.length; i++) {
    const k = signingKey(secrets[i] as string, i);
    let entry: string;
    if (k.kind === 'hmac') {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      entry = `v1,${hmacSha256Base64(k.prepared, prefix, bytes)}`;
    } else {
      content ??= signedContent(input.id, input.timestamp, body);
      entry = `v1a,${cryptoSign(null, content, k.key).toString('base64')}`;
    }
    signature = i === 0 ? entry : `${signature} ${entry}`;
  }
  return signature;
}

/** The Standard Webhooks request headers produced by {@link webhookHeaders}. */
export interface WebhookHeaders {
  'webhook-id': string;
  /** Integer seconds since the epoch, as decimal text. */
  'webhook-timestamp': string;
  /** Present only when at least one secret was given. */
  'webhook-signature'?: string;
}

/**
 * Builds the three Standard Webhooks headers for one attempt: `webhook-id`, `webhook-timestamp`
 * and (when `secrets` is not empty) `webhook-signature` from {@link signWebhook}.
 *
 * @example
 * ```ts
 * const headers = webhookHeaders({ id: 'msg_1', timestamp: Math.floor(Date.now() / 1000), body, secrets });
 * await fetch(url, { method: 'POST', body, headers: { ...headers, 'content-type': 'application/json' } });
 * ```
 */
export function webhookHeaders(input: SignInput): WebhookHeaders {
  const signature = signWebhook(input);
  const headers: WebhookHeaders = { 'webhook-id': input.id, 'webhook-timestamp': String(input.timestamp) };
  if (signature !== '') headers['webhook-signature'] = signature;
  return headers;
}

/**
 * Generates a random symmetric secret, `whsec_` followed by base64 of `bytes` random bytes.
 * `bytes` defaults to 32 and must be an integer from 24 to 64 (the spec's recommended range).
 *
 * @throws {ValidationError} when `bytes` is out of range.
 *
 * @example
 * ```ts
 * const secret = generateSecret(); // 'whsec_8n0w...' (32 random bytes)
 * ```
 */
export function generateSecret(options: { bytes?: number } = {}): string {
  const bytes = options.bytes ?? 32;
  if (!Number.isInteger(bytes) || bytes < 24 || bytes > 64) {
    throw new ValidationError([
      { path: ['bytes'], code: 'out_of_range', message: 'A secret must have an integer 24 to 64 bytes.' },
    ]);
  }
  return `${SECRET_PREFIX}${randomBytes(bytes).toString('base64')}`;
}

/** An ed25519 key pair in Standard Webhooks format. */
export interface WebhookKeyPair {
  /** `whsk_` + base64 of the 64-byte libsodium form (32-byte seed followed by the public key). Keep it private. */
  secretKey: string;
  /** `whpk_` + base64 of the raw 32-byte public key. Give it to receivers. */
  publicKey: string;
}

/**
 * Generates a random ed25519 key pair for asymmetric (`v1a`) signatures: sign with
 * `secretKey` (pass it in `secrets` of {@link signWebhook}), receivers verify with `publicKey`.
 *
 * @example
 * ```ts
 * const { secretKey, publicKey } = generateKeyPair();
 * const signature = signWebhook({ id, timestamp, body, secrets: [secretKey] }); // 'v1a,...'
 * verifyWebhook({ body, headers, secrets: [publicKey] });
 * ```
 */
export function generateKeyPair(): WebhookKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519_PREFIX.length);
  const pub = rawPublicKey(publicKey);
  return {
    secretKey: `${SECRET_KEY_PREFIX}${Buffer.concat([seed, pub]).toString('base64')}`,
    publicKey: `${PUBLIC_KEY_PREFIX}${pub.toString('base64')}`,
  };
}

/**
 * Request headers as a Fetch `Headers` object or a plain record such as Node's
 * `IncomingHttpHeaders`. Names are matched case-insensitively.
 */
export type HeadersLike = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Input to {@link verifyWebhook}. */
export interface VerifyInput {
  /** The raw request body exactly as received (do not re-serialise parsed JSON). */
  body: string | Uint8Array;
  /** The request headers. */
  headers: HeadersLike;
  /**
   * Keys to accept: `whsec_` secrets (for `v1` entries) and/or `whpk_` public keys (for `v1a`
   * entries). The request is accepted when any signature entry matches any of them.
   */
  secrets: readonly string[];
  /**
   * How far `webhook-timestamp` may be from `now`, in seconds, in either direction. Default 300.
   * `Infinity` disables the check.
   */
  toleranceSec?: number;
  /** The current time as a `Date` or milliseconds since the epoch. Default `Date.now()`. */
  now?: Date | number;
}

/** What {@link verifyWebhook} returns for an authentic request. */
export interface VerifiedWebhook {
  /** The `webhook-id` header: use it to drop duplicate deliveries. */
  id: string;
  /** The `webhook-timestamp` header, in seconds since the epoch. */
  timestamp: number;
  /** Index in `secrets` of the key that matched (useful to see when an old secret is no longer used). */
  secretIndex: number;
}

function isHeaders(headers: HeadersLike): headers is Headers {
  return headers instanceof Headers || typeof (headers as { get?: unknown }).get === 'function';
}

function header(headers: HeadersLike, name: string, joiner: string): string | undefined {
  if (isHeaders(headers)) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    return typeof value === 'string' ? value : value.join(joiner);
  }
  return undefined;
}

function toMillis(now: Date | number | undefined): number {
  if (now === undefined) return Date.now();
  return typeof now === 'number' ? now : now.getTime();
}

const TIMESTAMP = /^[0-9]{1,15}$/;
const HMAC_LENGTH = 32;
const ED25519_SIGNATURE_LENGTH = 64;

/**
 * Verifies a Standard Webhooks request for receivers. Checks, in order: the secrets are
 * well-formed (`invalid_secret`), the three headers are present (`missing_headers`), the
 * timestamp is an integer (`invalid_timestamp`) within `toleranceSec` of `now`
 * (`timestamp_too_old` / `timestamp_too_new`; a difference of exactly `toleranceSec` passes),
 * and at least one `v1` / `v1a` entry of `webhook-signature` matches one of `secrets`
 * (`no_matching_signature`). Entries of unknown versions are ignored. HMACs are compared in
 * constant time. The body is checked byte for byte, so pass the raw body.
 *
 * Defaults: `toleranceSec` 300, `now` the current time.
 *
 * @returns the id, timestamp and index of the matching secret.
 * @throws {SignatureError} with one of the reasons above.
 * @throws {ValidationError} when `toleranceSec` is negative or not a number.
 *
 * @example
 * ```ts
 * const body = await request.text();
 * const { id } = verifyWebhook({ body, headers: request.headers, secrets: [process.env.WEBHOOK_SECRET!] });
 * ```
 */
export function verifyWebhook(input: VerifyInput): VerifiedWebhook {
  const toleranceSec = input.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  if (typeof toleranceSec !== 'number' || Number.isNaN(toleranceSec) || toleranceSec < 0) {
    throw new ValidationError([
      {
        path: ['toleranceSec'],
        code: 'out_of_range',
        message: 'toleranceSec must be a non-negative number.',
      },
    ]);
  }
  const keys = parseVerifyingKeys(input.secrets);

  const id = header(input.headers, 'webhook-id', ',');
  const timestampText = header(input.headers, 'webhook-timestamp', ',');
  const signatureText = header(input.headers, 'webhook-signature', ' ');
  if (!id || !timestampText || !signatureText) {
    const missing = [
      id ? null : 'webhook-id',
      timestampText ? null : 'webhook-timestamp',
      signatureText ? null : 'webhook-signature',
    ].filter((name) => name !== null);
    throw new SignatureError('missing_headers', `Missing required header(s): ${missing.join(', ')}.`);
  }

  const trimmed = timestampText.trim();
  if (!TIMESTAMP.test(trimmed)) {
    throw new SignatureError('invalid_timestamp', 'webhook-timestamp must be an integer number of seconds.');
  }
  const timestamp = Number(trimmed);
  const nowSec = Math.floor(toMillis(input.now) / 1000);
  if (nowSec - timestamp > toleranceSec) {
    throw new SignatureError(
      'timestamp_too_old',
      `webhook-timestamp is ${nowSec - timestamp} s in the past; at most ${toleranceSec} s is accepted.`,
    );
  }
  if (timestamp - nowSec > toleranceSec) {
    throw new SignatureError(
      'timestamp_too_new',
      `webhook-timestamp is ${timestamp - nowSec} s in the future; at most ${toleranceSec} s is accepted.`,
    );
  }

  const content = signedContent(id, trimmed, input.body);
  const hmacs = new Map<number, Buffer>();
  for (const entry of signatureText.split(/\s+/)) {
    const comma = entry.indexOf(',');
    if (comma < 0) continue;
    const version = entry.slice(0, comma);
    if (version !== 'v1' && version !== 'v1a') continue;
    const given = decodeBase64(entry.slice(comma + 1));
    if (given === null) continue;
    for (const [index, k] of keys.entries()) {
      if (version === 'v1' && k.kind === 'hmac' && given.length === HMAC_LENGTH) {
        let expected = hmacs.get(index);
        if (expected === undefined) {
          expected = createHmac('sha256', k.key).update(content).digest();
          hmacs.set(index, expected);
        }
        if (timingSafeEqual(given, expected)) return { id, timestamp, secretIndex: index };
      } else if (version === 'v1a' && k.kind === 'ed25519' && given.length === ED25519_SIGNATURE_LENGTH) {
        if (cryptoVerify(null, content, k.key, given)) return { id, timestamp, secretIndex: index };
      }
    }
  }
  throw new SignatureError(
    'no_matching_signature',
    'No webhook-signature entry matches any of the given secrets.',
  );
}

/** The result of {@link verifyWebhookSafe}. */
export type VerifyResult = ({ ok: true } & VerifiedWebhook) | { ok: false; error: SignatureError };

/**
 * Like {@link verifyWebhook} but returns `{ ok: false, error }` instead of throwing a
 * {@link SignatureError}. Other errors (a `ValidationError` for a bad `toleranceSec`) still throw.
 *
 * @example
 * ```ts
 * const result = verifyWebhookSafe({ body, headers, secrets });
 * if (!result.ok) return new Response(result.error.reason, { status: 401 });
 * ```
 */
export function verifyWebhookSafe(input: VerifyInput): VerifyResult {
  try {
    return { ok: true, ...verifyWebhook(input) };
  } catch (error) {
    if (error instanceof SignatureError) return { ok: false, error };
    throw error;
  }
}
