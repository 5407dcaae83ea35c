import { BoundedCache } from '../../util/bounded-cache.js';

/**
 * The transport contract: how one HTTP attempt is sent. Every transport has the same
 * semantics, checked by one shared test suite:
 *
 * - one overall deadline (`timeoutMs`) covering connect, response headers and the response body;
 * - redirects are never followed: a 3xx is returned as a failure (`error.code === 'redirect'`);
 * - the SSRF guard runs on the address actually connected to (after DNS);
 * - the response body is read as a stream and cut at `maxResponseBytes`, decoded as UTF-8 with
 *   replacement characters for invalid bytes;
 * - only a safe subset of response headers is kept, lowercased;
 * - network outcomes are returned as data (status 0 and an `error`), never thrown.
 */

/** What a transport sends. Built by `deliver()`; headers are final (signature included). */
export interface TransportRequest {
  url: string;
  method: string;
  /** Final request headers. Hop-by-hop headers (`connection`, `host`, `content-length`…) are already removed. */
  headers: Record<string, string>;
  /** The exact body bytes. */
  body: Uint8Array;
  /** Deadline in milliseconds for connect + headers + body. */
  timeoutMs: number;
  /** Response body bytes kept; the rest is not read. */
  maxResponseBytes: number;
}

/** Why an attempt failed without a usable HTTP answer (or, for `redirect`, with a 3xx). */
export type TransportErrorCode =
  | 'timeout'
  | 'connect_failed'
  | 'dns_failed'
  | 'ssrf_blocked'
  | 'reset'
  | 'redirect'
  | 'protocol'
  | 'tls'
  | 'invalid_request'
  | 'network';

/** A failed attempt's error, as data. */
export interface TransportError {
  code: TransportErrorCode;
  /** A sentence for the attempt log, e.g. `"connect ECONNREFUSED 127.0.0.1:8080"`. */
  message: string;
}

/** What a transport returns: always resolved, never rejected. */
export interface TransportResult {
  /** HTTP status, or `0` when no complete response arrived (timeout, reset, refused, blocked…). */
  status: number;
  /**
   * The safe subset of response headers, lowercased: `content-type`, `content-length`,
   * `content-encoding`, `retry-after`, `date`, `location`, `x-request-id`, `x-correlation-id`,
   * `request-id`.
   */
  headers: Record<string, string>;
  /** The response body, at most `maxResponseBytes` bytes, decoded as UTF-8. */
  body: string;
  /** `true` when the body was cut at `maxResponseBytes`. */
  bodyTruncated: boolean;
  error?: TransportError;
}

/**
 * Sends HTTP attempts. Implementations: {@link kyTransport} (default of `deliver()`),
 * {@link undiciTransport} (fastest on Node), {@link nodeTransport} (`node:http`, for runtimes
 * whose fetch ignores undici's dispatcher) and {@link defaultTransport} (the worker's default:
 * the undici transport where the runtime honours it, else the node one). Test doubles may
 * implement it too.
 *
 * @example
 * ```ts
 * const transport: Transport = undiciTransport();
 * const result = await transport.send({ url, method: 'POST', headers: {}, body: new Uint8Array(), timeoutMs: 30_000, maxResponseBytes: 65_536 });
 * await transport.close?.();
 * ```
 */
export interface Transport {
  /** A short name for logs and benchmarks, e.g. `'undici'`. */
  readonly name: string;
  /** Sends one attempt. Resolves with the outcome; must not reject. */
  send(request: TransportRequest): Promise<TransportResult>;
  /** Closes pooled connections. Optional. */
  close?(): Promise<void>;
}

/** Response headers kept in attempt results (everything else is dropped). */
export const SAFE_RESPONSE_HEADERS: readonly string[] = Object.freeze([
  'content-type',
  'content-length',
  'content-encoding',
  'retry-after',
  'date',
  'location',
  'x-request-id',
  'x-correlation-id',
  'request-id',
]);

const MAX_HEADER_VALUE = 1024;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Picks {@link SAFE_RESPONSE_HEADERS} through a getter (Fetch `Headers.get` or a record lookup). */
export function pickResponseHeaders(
  get: (name: string) => string | readonly string[] | null | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SAFE_RESPONSE_HEADERS) {
    const raw = get(name);
    if (raw === null || raw === undefined) continue;
    const value = typeof raw === 'string' ? raw : raw.join(', ');
    out[name] = value.length > MAX_HEADER_VALUE ? value.slice(0, MAX_HEADER_VALUE) : value;
  }
  return out;
}

/** Safe names by length, with their bytes, for matching raw header names without decoding them. */
const SAFE_BY_LENGTH: { name: string; bytes: Uint8Array }[][] = [];
for (const name of SAFE_RESPONSE_HEADERS) {
  const entry = { name, bytes: Buffer.from(name, 'latin1') };
  const list = SAFE_BY_LENGTH[name.length];
  if (list === undefined) SAFE_BY_LENGTH[name.length] = [entry];
  else list.push(entry);
}

/** The safe name `raw` spells in any letter case, or `undefined`. Compares bytes; decodes nothing. */
function safeName(raw: Buffer | string): string | undefined {
  const candidates = SAFE_BY_LENGTH[raw.length];
  if (candidates === undefined) return undefined;
  if (typeof raw === 'string') {
    const lower = raw.toLowerCase();
    return candidates.find((c) => c.name === lower)?.name;
  }
  next: for (const { name, bytes } of candidates) {
    for (let j = 0; j < bytes.length; j++) {
      let b = raw[j] as number;
      if (b >= 0x41 && b <= 0x5a) b += 0x20; // A-Z to a-z
      if (b !== bytes[j]) continue next;
    }
    return name;
  }
  return undefined;
}

/**
 * Picks {@link SAFE_RESPONSE_HEADERS} from undici's raw header list (name, value, name, value…,
 * as bytes), decoding only the values of the names it keeps. Repeated headers are joined with
 * `, ` in the order received, as {@link pickResponseHeaders} does.
 */
export function pickRawResponseHeaders(raw: readonly (Buffer | string)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = safeName(raw[i] as Buffer | string);
    if (name === undefined) continue;
    const rawValue = raw[i + 1] as Buffer | string;
    const value = typeof rawValue === 'string' ? rawValue : rawValue.toString('latin1');
    const before = out[name];
    out[name] = before === undefined ? value : `${before}, ${value}`;
  }
  for (const name in out) {
    const value = out[name] as string;
    if (value.length > MAX_HEADER_VALUE) out[name] = value.slice(0, MAX_HEADER_VALUE);
  }
  return out;
}

/**
 * Collects response body chunks up to a byte cap and decodes them as UTF-8 (invalid bytes become
 * U+FFFD; a multi-byte character cut by the cap is dropped).
 */
export class BodyCollector {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  /** Set once the cap is reached; stop reading then. */
  truncated = false;

  constructor(private readonly max: number) {}

  /** Adds a chunk; returns `false` when the cap is reached and reading should stop. */
  push(chunk: Uint8Array): boolean {
    const room = this.max - this.size;
    if (chunk.byteLength > room) {
      if (room > 0) this.chunks.push(chunk.subarray(0, room));
      this.size = this.max;
      this.truncated = true;
      return false;
    }
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    return true;
  }

  /** The collected bytes as text. */
  text(): string {
    if (this.size === 0) return '';
    const bytes =
      this.chunks.length === 1 ? (this.chunks[0] as Uint8Array) : Buffer.concat(this.chunks, this.size);
    // A cut body drops a trailing partial character (streaming decode, never flushed).
    if (this.truncated) return new TextDecoder('utf-8', { fatal: false }).decode(bytes, { stream: true });
    return utf8.decode(bytes);
  }
}

/** A deadline: an `AbortSignal` that fires after `ms`, and whether it did. Call `clear()` when done. */
export interface Deadline {
  readonly signal: AbortSignal;
  readonly expired: () => boolean;
  clear(): void;
}

/** Starts a {@link Deadline}. */
export function startDeadline(ms: number): Deadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DeadlineError(ms));
  }, ms);
  timer.unref?.();
  return { signal: controller.signal, expired: () => expired, clear: () => clearTimeout(timer) };
}

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`No complete response within ${ms} ms.`);
    this.name = 'TimeoutError';
  }
}

/** The target of an attempt: the URL without credentials, plus an `authorization` header made from them. */
export interface Target {
  url: URL;
  /** `url.origin`, read once (a `URL` getter allocates on every read). */
  origin: string;
  /** `url.pathname` + `url.search`. */
  path: string;
  /** `Basic …` when the URL carried `user:pass@`. */
  authorization?: string;
}

/**
 * Ports of other protocols (SMTP, IRC, SSH…) that webhooks never target: the Fetch standard's
 * "bad port" list. Node's fetch refuses them, so every transport does.
 */
const BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104,
  109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515,
  526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
  3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * Parses and checks a target URL (http/https only, no "bad port"); credentials move into a Basic
 * `authorization` header.
 */
export function parseTarget(raw: string): Target | TransportError {
  const cached = targetCache.get(raw);
  if (cached) return cached;
  return targetCache.set(raw, parseTargetUncached(raw));
}

/**
 * The headers to send to `target`: the request's own, after a Basic `authorization` built from
 * the URL's credentials when it has any (the request's own `authorization` wins).
 */
export function headersFor(
  target: Target,
  headers: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  return target.authorization ? { authorization: target.authorization, ...headers } : headers;
}

/**
 * Webhook URLs repeat: parsing each once saves a `new URL()` per attempt. Entries are never
 * mutated. Bound: 1 000 URLs; emptied when full. Benchmark: bench/deliver.
 */
const targetCache = new BoundedCache<string, Target | TransportError>(1_000);

function parseTargetUncached(raw: string): Target | TransportError {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { code: 'invalid_request', message: `Invalid URL: ${JSON.stringify(raw.slice(0, 200))}.` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { code: 'invalid_request', message: `Unsupported URL scheme ${JSON.stringify(url.protocol)}.` };
  }
  if (url.port !== '' && BAD_PORTS.has(Number(url.port))) {
    return {
      code: 'ssrf_blocked',
      message: `Refused to connect to port ${url.port}: it belongs to another protocol (the Fetch standard's "bad port" list).`,
    };
  }
  const origin = url.origin;
  const path = `${url.pathname}${url.search}`;
  if (url.username === '' && url.password === '') return { url, origin, path };
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  return { url, origin, path, authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}

/** A 3xx outcome as an error (redirects are never followed). `undefined` for other statuses. */
export function redirectError(status: number, location: string | undefined): TransportError | undefined {
  if (status < 300 || status > 399) return undefined;
  const to = location ? ` to ${location.slice(0, 300)}` : '';
  return {
    code: 'redirect',
    message: `HTTP ${status} redirect${to} not followed: a 3xx answer is a failure.`,
  };
}

const DNS_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EAI_NODATA',
  'ENODATA',
  'ESERVFAIL',
]);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const PROTOCOL_CODES = new Set([
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_INFO',
  'UND_ERR_RESPONSE_EXCEEDED_MAX_SIZE',
  'UND_ERR_NOT_SUPPORTED',
]);
const INVALID_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'ERR_INVALID_URL',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
]);

interface ErrLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  name?: unknown;
}

function chain(err: unknown): ErrLike[] {
  const out: ErrLike[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 16) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || out.includes(e as ErrLike)) continue;
    const like = e as ErrLike;
    out.push(like);
    if (like.cause !== undefined) queue.push(like.cause);
    if (Array.isArray(like.errors)) queue.push(...like.errors);
  }
  return out;
}

function codeOf(e: ErrLike): string {
  return typeof e.code === 'string' ? e.code : '';
}

function messageOf(e: ErrLike): string {
  return typeof e.message === 'string' && e.message !== '' ? e.message : String(e.name ?? 'error');
}

/**
 * Maps any error thrown while sending (Node `net`/`tls`, undici, fetch, the SSRF guard) to a
 * {@link TransportError}. `timedOut` says whether the attempt's deadline fired.
 */
export function toTransportError(err: unknown, timedOut: boolean, timeoutMs: number): TransportError {
  if (timedOut) return { code: 'timeout', message: `No complete response within ${timeoutMs} ms.` };
  const all = chain(err);
  const find = (pred: (e: ErrLike, code: string) => boolean): ErrLike | undefined =>
    all.find((e) => pred(e, codeOf(e)));
  const hit = (code: TransportErrorCode, e: ErrLike): TransportError => ({ code, message: messageOf(e) });

  let e = find((_, c) => c === 'ssrf_blocked');
  if (e) return hit('ssrf_blocked', e);
  e = find((_, c) => DNS_CODES.has(c));
  if (e) return hit('dns_failed', e);
  e = find((_, c) => TIMEOUT_CODES.has(c));
  if (e) return { code: 'timeout', message: messageOf(e) };
  e = find((_, c) => CONNECT_CODES.has(c));
  if (e) return hit('connect_failed', e);
  e = find(
    (x, c) =>
      c.startsWith('ERR_TLS') ||
      c.startsWith('ERR_SSL') ||
      /CERT|UNABLE_TO_VERIFY/.test(c) ||
      x.name === 'SSLError',
  );
  if (e) return hit('tls', e);
  e = find((_, c) => c.startsWith('HPE_') || PROTOCOL_CODES.has(c));
  if (e) return hit('protocol', e);
  e = find((_, c) => INVALID_CODES.has(c));
  if (e) return hit('invalid_request', e);
  e = find((x, c) => RESET_CODES.has(c) || x.message === 'terminated');
  if (e) {
    const deepest = find((_, c) => RESET_CODES.has(c)) ?? e;
    return hit('reset', deepest);
  }
  const first = all[all.length - 1];
  return { code: 'network', message: first ? messageOf(first) : String(err) };
}

/**
 * Builds the {@link TransportResult} of a response read to its end or to the body cap: a 3xx
 * carries a `redirect` error (see {@link redirectError}).
 */
export function completedResult(
  status: number,
  headers: Record<string, string>,
  collector: BodyCollector,
): TransportResult {
  const result: TransportResult = {
    status,
    headers,
    body: collector.text(),
    bodyTruncated: collector.truncated,
  };
  const redirect = redirectError(status, headers.location);
  if (redirect) result.error = redirect;
  return result;
}

/** Builds a failed {@link TransportResult}. */
export function failure(error: TransportError): TransportResult {
  return { status: 0, headers: {}, body: '', bodyTruncated: false, error };
}
