/** Reading request bodies safely: size-limited, streamed, never hanging on bad input. */

/**
 * The error a body stream fails with when it is larger than allowed. The node adapter uses it
 * so that the dialect handler can still answer 413 in its own shape.
 *
 * @example
 * ```ts
 * controller.error(new BodyTooLargeError(1024 * 1024)); // the handler answers 413
 * ```
 */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body exceeds ${limit} bytes.`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Deepest nesting of arrays and objects accepted in a request body: 64 (the webhook bodies of
 * both dialects need 2). Deeper bodies are `invalid_json`, found by a scan of the text before
 * parsing, so no later walk over the parsed value can exhaust the call stack.
 */
export const MAX_BODY_JSON_DEPTH = 64;

/**
 * Whether JSON text nests arrays and objects deeper than `limit`. One pass over the text, no
 * recursion; brackets inside strings do not count.
 */
export function jsonNestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** The outcome of {@link readJsonBody}. */
export type BodyResult =
  | { kind: 'json'; value: unknown }
  | { kind: 'empty' }
  | { kind: 'too_large' }
  | { kind: 'unsupported_media_type'; mediaType: string }
  | { kind: 'invalid_json'; message: string };

/** True for `application/json` and `application/*+json` (parameters such as charset allowed). */
export function isJsonMediaType(contentType: string): boolean {
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return media === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}

/** Reads at most `limit` bytes; `null` when there are more. */
async function readLimited(request: Request, limit: number): Promise<Uint8Array | null> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit) {
    await request.body?.cancel().catch(() => {});
    return null;
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof BodyTooLargeError) return null;
    throw error;
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Reads a request body as JSON, at most `limit` bytes. An empty body is `empty` whatever its
 * content type; a non-empty one must be declared as JSON (`application/json` or `+json`), which
 * also keeps cross-site form posts out (they cannot send a JSON content type without CORS).
 * A broken or aborted upload is reported as `invalid_json`, and so is JSON nested more than
 * {@link MAX_BODY_JSON_DEPTH} levels deep.
 */
export async function readJsonBody(request: Request, limit: number): Promise<BodyResult> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readLimited(request, limit);
  } catch {
    return { kind: 'invalid_json', message: 'The request body could not be read.' };
  }
  if (bytes === null) return { kind: 'too_large' };
  if (bytes.byteLength === 0) return { kind: 'empty' };
  const contentType = request.headers.get('content-type') ?? '';
  if (!isJsonMediaType(contentType)) {
    return { kind: 'unsupported_media_type', mediaType: (contentType.split(';')[0] ?? '').trim() };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { kind: 'invalid_json', message: 'The request body is not valid UTF-8.' };
  }
  if (jsonNestedDeeperThan(text, MAX_BODY_JSON_DEPTH)) {
    return {
      kind: 'invalid_json',
      message: `The JSON is nested more than ${MAX_BODY_JSON_DEPTH} levels deep.`,
    };
  }
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown };
  } catch (error) {
    return { kind: 'invalid_json', message: error instanceof Error ? error.message : 'Invalid JSON.' };
  }
}
