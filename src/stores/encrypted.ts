/**
 * Signing secrets encrypted at rest: {@link encryptSecrets} wraps any {@link Store} so the
 * `secrets` of every webhook are stored as AES-256-GCM ciphertext and read back as given;
 * {@link rotateSecrets} re-encrypts every stored secret under the newest key;
 * {@link parseSecretKeys} and {@link generateSecretKey} read and make keys for
 * `HOOKLINE_SECRET_KEYS`.
 *
 * Stored form of one secret: `hlenc:v1:<keyId>:<iv>:<ciphertext and tag>` (base64url), in the
 * same `secrets` list (so the same column: no migration). The associated data is
 * `hlenc:v1:<keyId>:<scope>`, so a value copied to another scope's row does not decrypt.
 * Values without the `hlenc:` prefix (written before keys were configured) are plaintext and
 * are read as they are.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { HooklineError, invalidOption } from '../errors.js';
import type { WebhookRecord } from '../model.js';
import { BoundedCache } from '../util/bounded-cache.js';
import { freezeWebhook } from './rules.js';
import type { ClaimedDelivery, Store } from './types.js';

/**
 * One key for encrypting signing secrets: a short `id` (`[A-Za-z0-9._-]{1,32}`, e.g.
 * `'2026-12'`, stored beside each value so the right key is found) and 32 random bytes, as
 * bytes or as base64 / base64url text (see {@link generateSecretKey}).
 *
 * @example
 * ```ts
 * const key: SecretKey = { id: '2026-12', key: generateSecretKey() };
 * ```
 */
export interface SecretKey {
  /** A short label, `[A-Za-z0-9._-]{1,32}`, unique among the keys. Stored in clear with each value. */
  id: string;
  /** 32 bytes: a `Uint8Array`, or base64 / base64url text of them. */
  key: string | Uint8Array;
}

/**
 * Options of {@link encryptSecrets}.
 *
 * @example
 * ```ts
 * const options: EncryptSecretsOptions = { keys: parseSecretKeys(process.env.HOOKLINE_SECRET_KEYS ?? '') };
 * ```
 */
export interface EncryptSecretsOptions {
  /**
   * The keys, newest first: the first encrypts every secret written, all of them decrypt. At
   * least one; ids unique.
   */
  keys: readonly SecretKey[];
  /**
   * Told when a claimed delivery's webhook has a secret that cannot be decrypted
   * (`secret_key_unknown` or `secret_decrypt_failed`): that delivery is withheld from the
   * claim (it stays leased, so it comes back once its lease ends; it is never sent unsigned),
   * and the others go ahead. Default: the message goes to `console.error` (it never holds a
   * secret). A registry with `secretKeys` sends it to its `logger` instead.
   */
  onError?: (error: HooklineError, where: { scope: string; webhookId: number }) => void;
}

const PREFIX = 'hlenc:';
const VERSION = 'v1';
const ID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;
const KEY_TEXT = /^[A-Za-z0-9+/_-]{43}=?$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * Bound: 10 000 stored values; reason: a webhook's secrets are decrypted on every read and
 * every claim (the delivery hot path), and the working set is one value per secret of the
 * webhooks with deliveries, normally far below it.
 */
const DECRYPTED_MAX = 10_000;

/** Whether a stored secret is in the encrypted form (anything else is plaintext). */
function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** The key bytes of `key`, or null when it is not 32 bytes. Never echoes the key. */
function keyBytes(key: unknown): Buffer | null {
  if (key instanceof Uint8Array) return key.length === 32 ? Buffer.from(key) : null;
  if (typeof key !== 'string' || !KEY_TEXT.test(key)) return null;
  const bytes = Buffer.from(key.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes : null;
}

/** What kind of value was given, never its content (it may be a key). */
function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A description of a rejected key value that says nothing of its content. */
function describeKey(key: unknown): string {
  if (key instanceof Uint8Array) return `${key.length} bytes`;
  if (typeof key === 'string') return `a string of ${key.length} characters that is not base64 of 32 bytes`;
  return key === undefined ? 'nothing' : `a value of type ${typeof key}`;
}

/** The checked keys: the newest encrypts, every one decrypts. Holds key objects, never prints them. */
class Keyring {
  readonly newestId: string;
  readonly #newest: KeyObject;
  readonly #byId: Map<string, KeyObject>;

  constructor(where: string, option: string, keys: unknown) {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new HooklineError(
        'invalid_option',
        `${where}: option "${option}" must be a non-empty array of { id, key } (newest first); got ${Array.isArray(keys) ? 'an empty array' : describeKind(keys)}.`,
      );
    }
    const byId = new Map<string, KeyObject>();
    keys.forEach((entry: unknown, i: number) => {
      const name = `${option}[${i}]`;
      if (typeof entry !== 'object' || entry === null) {
        throw new HooklineError(
          'invalid_option',
          `${where}: option "${name}" must be an object { id, key }; got ${describeKind(entry)}.`,
        );
      }
      const { id, key } = entry as { id?: unknown; key?: unknown };
      if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
        const what = typeof id === 'string' ? `a string of ${id.length} characters` : typeof id;
        throw new HooklineError(
          'invalid_option',
          `${where}: option "${name}.id" must be 1 to 32 characters of A-Z, a-z, 0-9, ".", "_" or "-"; got ${what}.`,
        );
      }
      if (byId.has(id)) {
        throw new HooklineError(
          'invalid_option',
          `${where}: option "${option}" has the key id ${JSON.stringify(id)} twice; key ids must be unique.`,
        );
      }
      const bytes = keyBytes(key);
      if (bytes === null) {
        throw new HooklineError(
          'invalid_option',
          `${where}: option "${name}.key" (id ${JSON.stringify(id)}) must be 32 bytes, as a Uint8Array or as base64 or base64url text (see generateSecretKey()); got ${describeKey(key)}.`,
        );
      }
      byId.set(id, createSecretKey(bytes));
      bytes.fill(0);
    });
    const first = (keys[0] as SecretKey).id;
    this.newestId = first;
    this.#newest = byId.get(first) as KeyObject;
    this.#byId = byId;
  }

  /** The stored form of `plaintext` in `scope`, under the newest key. */
  seal(scope: string, plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#newest, iv);
    cipher.setAAD(associatedData(this.newestId, scope));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${VERSION}:${this.newestId}:${iv.toString('base64url')}:${body.toString('base64url')}`;
  }

  /** The key id a stored value names, or null when it is malformed. */
  keyIdOf(stored: string): string | null {
    const parts = stored.split(':');
    return parts.length === 5 && parts[1] === VERSION ? (parts[2] as string) : null;
  }

  /**
   * The plaintext of a stored value of webhook `webhookId` in `scope`. Throws
   * `secret_key_unknown` (its key id is not configured) or `secret_decrypt_failed` (malformed,
   * or it does not authenticate: another key with the same id, tampered, or another scope's).
   */
  open(scope: string, webhookId: number, stored: string): string {
    const where = `webhook ${webhookId} in scope ${JSON.stringify(scope)}`;
    const parts = stored.split(':');
    if (parts.length !== 5 || parts[1] !== VERSION) {
      throw new HooklineError(
        'secret_decrypt_failed',
        `A signing secret of ${where} is not in a known encrypted form (expected "hlenc:v1:<keyId>:<iv>:<data>").`,
      );
    }
    const keyId = parts[2] as string;
    const key = this.#byId.get(keyId);
    if (key === undefined) {
      throw new HooklineError(
        'secret_key_unknown',
        `A signing secret of ${where} is encrypted under the key ${JSON.stringify(keyId)}, which is not configured (configured: ${[...this.#byId.keys()].map((id) => JSON.stringify(id)).join(', ')}). Add that key to the secret keys (after the newest one).`,
      );
    }
    const iv = Buffer.from(parts[3] as string, 'base64url');
    const body = Buffer.from(parts[4] as string, 'base64url');
    try {
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new Error('truncated value');
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(associatedData(keyId, scope));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch (error) {
      throw new HooklineError(
        'secret_decrypt_failed',
        `A signing secret of ${where} does not decrypt under the key ${JSON.stringify(keyId)}: the key is not the one it was encrypted with, or the value was changed or copied from another scope.`,
        { cause: error },
      );
    }
  }
}

/** What a value is bound to: its format, key id and scope. */
function associatedData(keyId: string, scope: string): Buffer {
  return Buffer.from(`${PREFIX}${VERSION}:${keyId}:${scope}`, 'utf8');
}

/**
 * Wraps `store` so that webhooks' signing secrets are stored encrypted (AES-256-GCM, a random
 * 12-byte IV per value, bound to the webhook's scope) under the newest of `keys` and read back
 * as given; every key decrypts, so rows written under an older key keep working while it is
 * configured. Secrets are encrypted by `insertWebhook` and by `updateWebhook` when the change
 * has `secrets`; they are decrypted wherever webhooks come out: `getWebhook`,
 * `getWebhookByKey`, `listWebhooks`, `updateWebhook`'s result and each claim's `webhook` in
 * `claimDue` (decrypted values are cached, so the delivery path decrypts a value once).
 * Everything else passes straight through, optional methods only when `store` has them, and
 * other properties (`schema`, `migrate()` of the PostgreSQL store) stay reachable.
 * `scanWebhooks` and `replaceWebhookSecrets` pass through unchanged: they deal in the stored
 * form (see {@link rotateSecrets}).
 *
 * Plaintext secrets already stored (written before keys were configured) are read as they are,
 * so turning encryption on needs no downtime; {@link rotateSecrets} encrypts them. Reading a
 * value under a key id that is not configured throws `secret_key_unknown` (naming the key id);
 * one that does not authenticate throws `secret_decrypt_failed`. Neither message ever holds a
 * secret. Bad keys (empty list, duplicate ids, not 32 bytes) throw `invalid_option` here.
 *
 * @example
 * ```ts
 * import { encryptSecrets, generateSecretKey, memoryStore, WebhookRegistry } from 'hookline';
 * const store = encryptSecrets(memoryStore(), { keys: [{ id: '2026-12', key: generateSecretKey() }] });
 * const registry = new WebhookRegistry({ store }); // or new WebhookRegistry({ store: memoryStore(), secretKeys })
 * ```
 */
export function encryptSecrets<S extends Store>(store: S, options: EncryptSecretsOptions): S {
  const where = 'encryptSecrets()';
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(where, 'options', 'an object { keys }', options);
  }
  const ring = new Keyring(where, 'keys', options.keys);
  const onError = options.onError ?? ((error: HooklineError) => console.error(`hookline: ${error.message}`));
  if (typeof onError !== 'function') throw invalidOption(where, 'onError', 'a function', onError);
  /** stored value → its plaintext and the scope it was bound to (checked on every hit). */
  const decrypted = new BoundedCache<string, { scope: string; plaintext: string }>(DECRYPTED_MAX);
  /** frozen claim snapshot → its frozen decrypted copy (claims of one webhook share snapshots). */
  const openedSnapshots = new WeakMap<WebhookRecord, Readonly<WebhookRecord>>();

  const seal = (scope: string, plaintext: string): string => {
    const stored = ring.seal(scope, plaintext);
    decrypted.set(stored, { scope, plaintext });
    return stored;
  };
  const open = (scope: string, webhookId: number, stored: string): string => {
    const hit = decrypted.get(stored);
    if (hit !== undefined && hit.scope === scope) return hit.plaintext;
    const plaintext = ring.open(scope, webhookId, stored);
    decrypted.set(stored, { scope, plaintext });
    return plaintext;
  };
  /** The decrypted secrets of `record`, or null when none is encrypted. */
  const openSecrets = (record: WebhookRecord): string[] | null => {
    const secrets = record.secrets;
    let out: string[] | null = null;
    for (let i = 0; i < secrets.length; i++) {
      const value = secrets[i] as string;
      if (!isSealed(value)) continue;
      out ??= secrets.slice();
      out[i] = open(record.scope, record.id, value);
    }
    return out;
  };
  /** Decrypts a read copy in place (reads return copies, see the Store contract). */
  const openRecord = (record: WebhookRecord): WebhookRecord => {
    const secrets = openSecrets(record);
    if (secrets !== null) record.secrets = secrets;
    return record;
  };
  const openFrozen = (snapshot: Readonly<WebhookRecord>): Readonly<WebhookRecord> => {
    const known = openedSnapshots.get(snapshot);
    if (known !== undefined) return known;
    const secrets = openSecrets(snapshot);
    const opened = secrets === null ? snapshot : freezeWebhook(Object.assign({}, snapshot, { secrets }));
    openedSnapshots.set(snapshot, opened);
    return opened;
  };

  const wrapped: Record<string, unknown> = {};
  // Everything passes through first (bound to the store), optional methods only when present.
  for (const name of propertyNames(store)) {
    const value = (store as unknown as Record<string, unknown>)[name];
    if (typeof value === 'function') wrapped[name] = value.bind(store);
    else
      Object.defineProperty(wrapped, name, {
        get: () => (store as unknown as Record<string, unknown>)[name],
        enumerable: true,
      });
  }
  const methods: Pick<
    Store,
    'insertWebhook' | 'getWebhook' | 'getWebhookByKey' | 'listWebhooks' | 'updateWebhook' | 'claimDue'
  > = {
    async insertWebhook(input) {
      const secrets = input.fields.secrets.map((secret) => seal(input.scope, secret));
      const fields = Object.assign({}, input.fields, { secrets });
      return openRecord(await store.insertWebhook(Object.assign({}, input, { fields })));
    },
    async getWebhook(input) {
      const record = await store.getWebhook(input);
      return record === null ? null : openRecord(record);
    },
    async getWebhookByKey(input) {
      const record = await store.getWebhookByKey(input);
      return record === null ? null : openRecord(record);
    },
    async listWebhooks(input) {
      const page = await store.listWebhooks(input);
      for (const record of page.items) openRecord(record);
      return page;
    },
    async updateWebhook(input) {
      let request = input;
      const plain = input.changes.secrets;
      if (plain !== undefined) {
        const secrets = plain.map((secret) => seal(input.scope, secret));
        request = Object.assign({}, input, { changes: Object.assign({}, input.changes, { secrets }) });
      }
      const record = await store.updateWebhook(request);
      return record === null ? null : openRecord(record);
    },
    async claimDue(input) {
      const claims = await store.claimDue(input);
      let kept: ClaimedDelivery[] | null = null;
      for (let i = 0; i < claims.length; i++) {
        const claim = claims[i] as ClaimedDelivery;
        const webhook = claim.webhook;
        try {
          if (webhook !== null) claim.webhook = openFrozen(webhook) as WebhookRecord;
          kept?.push(claim);
        } catch (error) {
          // Withheld: it stays leased and comes back after its lease; never sent unsigned.
          kept ??= claims.slice(0, i);
          report(error, claim);
        }
      }
      return kept ?? claims;
    },
  };
  const report = (error: unknown, claim: ClaimedDelivery) => {
    const failure =
      error instanceof HooklineError
        ? error
        : new HooklineError('secret_decrypt_failed', 'A signing secret could not be decrypted.', {
            cause: error,
          });
    try {
      onError(failure, { scope: claim.scope, webhookId: claim.webhookId });
    } catch {
      // A failing error handler must not break claiming.
    }
  };
  Object.assign(wrapped, methods);
  return wrapped as unknown as S;
}

/** Own and inherited property names of a store (class-based stores keep methods on prototypes). */
function propertyNames(store: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = store; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor') names.add(name);
  }
  return [...names];
}

/**
 * Reads secret keys from the text of the environment variable `HOOKLINE_SECRET_KEYS`:
 * comma-separated `id:base64key` entries, newest first (spaces around entries are ignored).
 * Throws `invalid_option` naming the entry (never its key) for an empty list, an entry without
 * `:`, a bad id, a duplicate id, or a key that is not 32 bytes.
 *
 * @example
 * ```ts
 * const keys = parseSecretKeys(`2026-12:${generateSecretKey()},2026-06:${generateSecretKey()}`);
 * keys.map((k) => k.id); // ['2026-12', '2026-06']
 * ```
 */
export function parseSecretKeys(text: string): SecretKey[] {
  const where = 'parseSecretKeys()';
  if (typeof text !== 'string') {
    throw new HooklineError(
      'invalid_option',
      `${where}: the text must be a string; got ${describeKind(text)}.`,
    );
  }
  const keys: SecretKey[] = [];
  const entries = text.split(',').map((entry) => entry.trim());
  entries.forEach((entry, i) => {
    if (entry === '') return;
    const colon = entry.indexOf(':');
    if (colon < 0) {
      throw new HooklineError(
        'invalid_option',
        `${where}: entry ${i + 1} of HOOKLINE_SECRET_KEYS has no ":"; each entry is <id>:<base64 key>, newest first, comma-separated.`,
      );
    }
    keys.push({ id: entry.slice(0, colon).trim(), key: entry.slice(colon + 1).trim() });
  });
  new Keyring(where, 'HOOKLINE_SECRET_KEYS', keys); // checks every entry, empty list included
  return keys;
}

/**
 * A new secret key: 32 random bytes as base64 text, for {@link SecretKey.key} or an entry of
 * `HOOKLINE_SECRET_KEYS` (`<id>:<this>`).
 *
 * @example
 * ```ts
 * const entry = `2026-12:${generateSecretKey()}`; // e.g. 2026-12:q0Nn…=
 * ```
 */
export function generateSecretKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * Options of {@link rotateSecrets}.
 *
 * @example
 * ```ts
 * const options: RotateSecretsOptions = { store, keys, batchSize: 500 };
 * ```
 */
export interface RotateSecretsOptions {
  /**
   * The store: a plain one or one wrapped by {@link encryptSecrets} (either way, it reads and
   * writes the stored form through `scanWebhooks` and `replaceWebhookSecrets`, which it must have).
   */
  store: Store;
  /** The keys, newest first, as the application has them: the newest encrypts, all decrypt. */
  keys: readonly SecretKey[];
  /** Webhooks read per batch. Default 200. */
  batchSize?: number;
  /** Called after each batch with the counts so far. */
  onProgress?: (progress: RotateSecretsProgress) => void;
  /** Stops the run between two webhooks (each webhook is replaced whole or not at all). */
  signal?: AbortSignal;
}

/**
 * How far {@link rotateSecrets} got: webhooks read, and webhooks whose secrets it re-encrypted.
 *
 * @example
 * ```ts
 * const progress: RotateSecretsProgress = { scanned: 400, rotated: 12 };
 * ```
 */
export interface RotateSecretsProgress {
  scanned: number;
  rotated: number;
}

/**
 * What {@link rotateSecrets} did: `scanned` webhooks read, `rotated` ones re-encrypted, and
 * `skipped` ones whose secrets kept changing while it tried (left for the next run).
 *
 * @example
 * ```ts
 * const result: RotateSecretsResult = { scanned: 400, rotated: 12, skipped: 0 };
 * ```
 */
export interface RotateSecretsResult extends RotateSecretsProgress {
  skipped: number;
}

/** How often one webhook is read again when its secrets changed between read and replace. */
const ROTATE_TRIES = 3;

/**
 * Re-encrypts the signing secrets of every webhook of every scope that is plaintext or under
 * an older key, under the newest of `keys`, in batches of `batchSize` (ids ascending). Safe
 * while workers deliver and webhooks are being changed: each webhook's secrets are replaced by
 * a compare-and-swap (only while they are still the ones read); one changed meanwhile is read
 * again (up to 3 times) or left for the next run, never overwritten with stale secrets.
 * Resumable: each webhook is replaced whole or not at all, and a second run skips what is
 * already under the newest key (a run that finds nothing to do writes nothing).
 *
 * Rotation procedure: deploy the new key as the first of the keys of every process (so every
 * process can read what the others write), run this, then remove the old key. Throws
 * `store_unsupported` for a store without `scanWebhooks` or `replaceWebhookSecrets`,
 * `secret_key_unknown` for a value under a key that is not in `keys`, `secret_decrypt_failed`
 * for one that does not authenticate, and the signal's reason when aborted.
 *
 * @example
 * ```ts
 * import { generateSecretKey, memoryStore, parseSecretKeys, rotateSecrets } from 'hookline';
 * const store = memoryStore();
 * const keys = parseSecretKeys(process.env.HOOKLINE_SECRET_KEYS ?? `2026-12:${generateSecretKey()}`);
 * const { scanned, rotated } = await rotateSecrets({ store, keys });
 * ```
 */
export async function rotateSecrets(options: RotateSecretsOptions): Promise<RotateSecretsResult> {
  const where = 'rotateSecrets()';
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(where, 'options', 'an object { store, keys }', options);
  }
  const { store, onProgress, signal } = options;
  const ring = new Keyring(where, 'keys', options.keys);
  const batchSize = options.batchSize ?? 200;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw invalidOption(where, 'batchSize', 'a positive integer', batchSize);
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw invalidOption(where, 'onProgress', 'a function', onProgress);
  }
  if (typeof store !== 'object' || store === null) {
    throw invalidOption(where, 'store', 'a Store', describeKind(store));
  }
  const scan = store.scanWebhooks?.bind(store);
  const replace = store.replaceWebhookSecrets?.bind(store);
  if (scan === undefined || replace === undefined) {
    const missing = scan === undefined ? 'scanWebhooks' : 'replaceWebhookSecrets';
    throw new HooklineError(
      'store_unsupported',
      `${where}: the store "${String(store.name)}" has no ${missing}(), which rotating secrets needs.`,
    );
  }
  /** The record's secrets re-encrypted under the newest key, or null when nothing changes. */
  const rotated = (record: WebhookRecord): string[] | null => {
    let out: string[] | null = null;
    for (let i = 0; i < record.secrets.length; i++) {
      const value = record.secrets[i] as string;
      if (isSealed(value) && ring.keyIdOf(value) === ring.newestId) continue;
      const plaintext = isSealed(value) ? ring.open(record.scope, record.id, value) : value;
      out ??= record.secrets.slice();
      out[i] = ring.seal(record.scope, plaintext);
    }
    return out;
  };
  const result: RotateSecretsResult = { scanned: 0, rotated: 0, skipped: 0 };
  let afterId = 0;
  for (;;) {
    signal?.throwIfAborted();
    const batch = await scan({ afterId, limit: batchSize });
    for (const first of batch) {
      signal?.throwIfAborted();
      afterId = Math.max(afterId, first.id);
      result.scanned++;
      let record: WebhookRecord | undefined = first;
      for (let tries = 1; record !== undefined; tries++) {
        const secrets = rotated(record);
        if (secrets === null) break;
        const scope: string = record.scope;
        const id: number = record.id;
        if (await replace({ scope, id, expected: record.secrets, secrets })) {
          result.rotated++;
          break;
        }
        if (tries >= ROTATE_TRIES) {
          result.skipped++;
          break;
        }
        // Changed meanwhile (or removed): read it again.
        const [again]: WebhookRecord[] = await scan({ afterId: id - 1, limit: 1 });
        record = again !== undefined && again.id === id && again.scope === scope ? again : undefined;
      }
    }
    onProgress?.({ scanned: result.scanned, rotated: result.rotated });
    if (batch.length < batchSize) break;
  }
  return result;
}

/**
 * The checked keys of `keys` for `where`'s option `option`: throws what {@link encryptSecrets}
 * throws for bad keys. For other options that take keys (the registry's `secretKeys`).
 *
 * @internal
 */
export function checkSecretKeys(where: string, option: string, keys: unknown): void {
  new Keyring(where, option, keys);
}
