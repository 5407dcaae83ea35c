import type { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import { parseTarget, type Target } from './contract.js';
import type { FetchFunction } from './runtime.js';

/**
 * Fetch functions over guarded connections, for ky on runtimes whose own fetch ignores undici's
 * `dispatcher` (Bun, Deno): the request ky built is read here and sent through a connection the
 * SSRF guard controls, and the answer comes back as a Fetch `Response` with a streamed body.
 * Redirects are returned, never followed; network failures reject like fetch does, with a
 * `TypeError` whose `cause` is the underlying error (the guard's `SsrfBlockedError` included).
 */

/** The parts of a fetch request a guarded connection needs. */
export interface FetchRequestParts {
  target: Target;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array;
  signal: AbortSignal;
}

/** Methods sent without a body when none is given. */
export const NO_BODY_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** An error with a Node-style `code`, so `toTransportError` classifies it. */
export function coded(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = code;
  return err;
}

/** Reads a fetch call's arguments: the target (credentials moved to `authorization`), method, headers, whole body, signal. */
export async function readFetchRequest(
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<FetchRequestParts> {
  const request = input instanceof Request && init === undefined ? input : new Request(input, init);
  const target = parseTarget(request.url);
  if (!('url' in target)) {
    throw new TypeError(`fetch failed: ${target.message}`, { cause: coded(target.code, target.message) });
  }
  const method = request.method;
  const body = NO_BODY_METHODS.has(method) ? new Uint8Array(0) : new Uint8Array(await request.arrayBuffer());
  const headers: Record<string, string> = {};
  request.headers.forEach((value, key) => {
    headers[key] = value;
  });
  if (target.authorization && headers.authorization === undefined)
    headers.authorization = target.authorization;
  return { target, method, headers, body, signal: request.signal };
}

/** Rejects like fetch: the signal's reason once aborted, else a `TypeError` with the error as `cause`. */
export function fetchFailed(err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  return new TypeError('fetch failed', { cause: err });
}

/**
 * Builds a Fetch `Response` from a status, header pairs and a Node `Readable` body. The body
 * streams with backpressure; aborting `signal` or cancelling the stream destroys `body` (and so
 * the connection, unless the whole answer was already read). Throws a fetch-like `TypeError` for
 * a status fetch cannot represent.
 */
export function toFetchResponse(
  method: string,
  status: number,
  statusText: string,
  headerPairs: Iterable<readonly [string, string]>,
  body: Readable,
  signal: AbortSignal,
): Response {
  if (status < 200 || status > 599) {
    body.destroy();
    throw new TypeError('fetch failed', {
      cause: coded('HPE_INVALID_STATUS', `Invalid HTTP status ${status} in the response.`),
    });
  }
  const headers = new Headers();
  for (const [name, value] of headerPairs) {
    try {
      headers.append(name, value);
    } catch {
      // A header fetch cannot represent is dropped, as fetch would refuse it.
    }
  }
  const init: ResponseInit = { status, statusText, headers };
  if (method === 'HEAD' || status === 204 || status === 205 || status === 304) {
    body.resume();
    return new Response(null, init);
  }
  let done = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let ended = false;
      const finish = (err?: unknown): void => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        if (err === undefined) controller.close();
        else controller.error(err);
      };
      const onAbort = (): void => {
        finish(signal.reason);
        body.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      body.on('data', (chunk: Buffer) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) body.pause();
      });
      body.on('end', () => {
        ended = true;
        finish();
      });
      body.on('error', (err) => finish(new TypeError('terminated', { cause: err })));
      body.on('close', () => {
        if (!ended) {
          finish(
            new TypeError('terminated', {
              cause: coded('ECONNRESET', 'The connection closed mid-response.'),
            }),
          );
        }
      });
    },
    pull() {
      body.resume();
    },
    cancel() {
      done = true;
      body.destroy();
    },
  });
  return new Response(stream, init);
}

/**
 * A fetch function that sends through a guarded undici dispatcher with undici's dispatcher API
 * (`agent.request()`), for runtimes that load the real undici but whose fetch ignores
 * `dispatcher` (Deno). The guard runs in the agent's connector, as for the undici transport.
 *
 * @example
 * ```ts
 * const fetchThroughAgent = createDispatcherFetch(createGuardedAgent());
 * const res = await fetchThroughAgent('https://hooks.example/in', { method: 'POST', body: '{}' });
 * ```
 */
export function createDispatcherFetch(agent: Agent): FetchFunction {
  return async (input, init) => {
    const { target, method, headers, body, signal } = await readFetchRequest(input, init);
    let data: Dispatcher.ResponseData;
    try {
      data = await agent.request({
        origin: target.origin,
        path: target.path,
        method: method as Dispatcher.HttpMethod,
        headers,
        body: NO_BODY_METHODS.has(method) ? null : body, // readFetchRequest reads no body for these
        signal,
      });
    } catch (err) {
      throw fetchFailed(err, signal);
    }
    const pairs: [string, string][] = [];
    for (const [name, value] of Object.entries(data.headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) pairs.push([name, v]);
      else pairs.push([name, value]);
    }
    return toFetchResponse(method, data.statusCode, data.statusText ?? '', pairs, data.body, signal);
  };
}
