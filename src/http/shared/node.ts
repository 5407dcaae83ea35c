/**
 * Runs a Fetch handler under `node:http`, Express or Fastify.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidOption } from '../../errors.js';
import { checkOptionalByteCount, checkOptionsObject } from '../../options.js';
import { BodyTooLargeError } from './body.js';
import { FETCH_FORBIDDEN_METHODS, standInRequest } from './method.js';
import { isUnmatched } from './respond.js';
import { DEFAULT_MAX_BODY_BYTES, type FetchHandler } from './types.js';

/** Options of {@link toNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * Largest request body streamed to the handler. Beyond it the stream fails with an error the
   * dialect handlers answer with 413. Default 1 MiB (the handlers' default).
   */
  maxBodyBytes?: number;
}

/** A Node request handler; with Express, `next` is called for requests no dialect claims. */
export type NodeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

/** Before answering early, how much unread request body we drain to keep the connection usable. */
const DRAIN_LIMIT = 16 * 1024 * 1024;
/** ... and for how long, in milliseconds. */
const DRAIN_MS = 2000;

function requestUrl(req: IncomingMessage): string {
  const path = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const host = req.headers.host ?? 'localhost';
  try {
    return new URL(path.startsWith('/') ? path : `/${path}`, `${encrypted ? 'https' : 'http'}://${host}`)
      .href;
  } catch {
    return `${encrypted ? 'https' : 'http'}://localhost/`;
  }
}

function requestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    if (name.startsWith(':')) continue; // HTTP/2 pseudo-headers
    try {
      headers.append(name, req.rawHeaders[i + 1] ?? '');
    } catch {
      // a header Fetch does not accept; leave it out
    }
  }
  return headers;
}

/**
 * A body already consumed by a framework's body parser (Express `req.body`). A parsed value
 * that cannot be written as JSON again (nested too deeply for `JSON.stringify`, say) becomes a
 * stream that fails, which the dialect handlers answer as an unreadable body (400).
 */
function preParsedBody(req: IncomingMessage): Uint8Array | ReadableStream<Uint8Array> | null {
  const body = (req as IncomingMessage & { body?: unknown }).body;
  if (body === undefined) return null;
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (typeof body === 'object' && body !== null && Object.keys(body).length === 0) return null;
  let text: string;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    return new ReadableStream<Uint8Array>({
      start(controller) {
        controller.error(
          new Error('The body parsed by a body parser cannot be written as JSON again.', { cause: error }),
        );
      },
    });
  }
  return new TextEncoder().encode(text);
}

/**
 * The Fetch `Request` for a Node request. A method `new Request()` refuses (`TRACE`, `TRACK`,
 * `CONNECT`, or anything that is not a token) gets a stand-in request without a body; the
 * handler reads the real method with `requestMethod()` and answers 405 in its own format.
 */
function toRequest(url: string, method: string, init: RequestInit & { duplex?: 'half' }): Request {
  if (FETCH_FORBIDDEN_METHODS.includes(method)) return standInRequest(url, method, init);
  try {
    return new Request(url, init);
  } catch {
    return standInRequest(url, method, init);
  }
}

function bodyStream(req: IncomingMessage, limit: number): ReadableStream<Uint8Array> {
  let received = 0;
  let finished = false;
  let attach: (() => void) | undefined;
  let detach: () => void = () => {};
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > limit) {
          finished = true;
          controller.error(new BodyTooLargeError(limit));
          return;
        }
        attach = () => {
          const finish = (error?: unknown) => {
            if (finished) return;
            finished = true;
            detach();
            if (error === undefined) controller.close();
            else controller.error(error);
          };
          const onData = (chunk: Buffer) => {
            received += chunk.byteLength;
            if (received > limit) {
              req.pause();
              finish(new BodyTooLargeError(limit));
              return;
            }
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            if ((controller.desiredSize ?? 1) <= 0) req.pause();
          };
          const onEnd = () => finish();
          const onError = (error: Error) => finish(error);
          const onClose = () => {
            if (!req.complete)
              finish(new Error('The client closed the connection before the body was complete.'));
          };
          detach = () => {
            req.off('data', onData);
            req.off('end', onEnd);
            req.off('error', onError);
            req.off('close', onClose);
          };
          req.on('data', onData);
          req.on('end', onEnd);
          req.on('error', onError);
          req.on('close', onClose);
        };
      },
      pull() {
        if (finished) return;
        if (attach !== undefined) {
          attach();
          attach = undefined;
        }
        req.resume();
      },
      cancel() {
        finished = true;
        detach();
        req.pause();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );
}

/**
 * Reads and drops the rest of a request body the handler did not read (an early 413, 401 ...),
 * bounded in bytes and time; resolves when it is all read or the bounds are reached. An answer
 * is written only after this: a client that is still sending (fetch, for one) does not read the
 * answer until it has sent its body, and a connection closed under it fails with EPIPE instead
 * of showing the 413. Past the bounds the answer goes out with `Connection: close` and the
 * socket is closed soon after.
 */
function discardRest(req: IncomingMessage): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  // Once per request: a second call (the handler's `finally` after a drain that stopped at its
  // bounds) would resume the paused request and drain as much again.
  let draining = drains.get(req);
  if (draining === undefined) {
    draining = drain(req);
    drains.set(req, draining);
  }
  return draining;
}

/** The drain started for each request, see {@link discardRest}. */
const drains = new WeakMap<IncomingMessage, Promise<void>>();

function drain(req: IncomingMessage): Promise<void> {
  return new Promise<void>((resolve) => {
    let drained = 0;
    const timer = setTimeout(() => {
      resolve();
      setTimeout(() => req.socket.destroy(), DRAIN_MS).unref();
    }, DRAIN_MS);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    req.removeAllListeners('data');
    req.on('data', (chunk: Buffer) => {
      drained += chunk.byteLength;
      if (drained > DRAIN_LIMIT) {
        req.pause();
        done();
        setTimeout(() => req.socket.destroy(), DRAIN_MS).unref();
      }
    });
    req.on('end', done);
    req.on('close', done);
    req.on('error', () => {});
    req.resume();
  });
}

async function writeResponse(
  response: Response,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  if (!req.complete && req.httpVersionMajor === 1) headers.connection = 'close';
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      if (signal.aborted) {
        await reader.cancel();
        return;
      }
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        });
      }
    }
    res.end();
  } finally {
    reader.releaseLock();
  }
}

/**
 * Adapts a Fetch handler to Node's `(req, res)` signature, for `node:http`, Express
 * (`app.use(toNodeHandler(handler))`; `next()` is called for requests outside the handler's
 * paths) and Fastify (`reply.hijack()`, then pass `request.raw`, `reply.raw`). The body is
 * streamed into the `Request` (`duplex: 'half'`) and capped at `maxBodyBytes`; a client abort
 * aborts the request's `signal` and stops writing. If a body parser already consumed the body
 * (Express `req.body`), that body is passed on. A method the Fetch API refuses (`TRACE`,
 * `TRACK`, `CONNECT`) reaches the handler as a stand-in request (see `requestMethod()`), so the
 * dialect answers 405 in its own format instead of the adapter failing. Never rejects.
 *
 * Default: `maxBodyBytes` 1 MiB. A handler that is not a function or a `maxBodyBytes` that is
 * not a non-negative integer throws a `HooklineError` with code `invalid_option`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(toNodeHandler(pretixHandler(registry, { authorize }))).listen(3000);
 * ```
 */
export function toNodeHandler(handler: FetchHandler, options: NodeHandlerOptions = {}): NodeHandler {
  const where = 'toNodeHandler()';
  if (typeof handler !== 'function')
    throw invalidOption(where, 'handler', 'a Fetch handler (a function)', handler);
  checkOptionsObject(where, options);
  checkOptionalByteCount(where, 'maxBodyBytes', options.maxBodyBytes);
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async (req, res, next) => {
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) controller.abort();
    };
    res.on('close', onClose);
    let passed = false;
    try {
      const method = (req.method ?? 'GET').toUpperCase();
      const init: RequestInit & { duplex?: 'half' } = {
        method,
        headers: requestHeaders(req),
        signal: controller.signal,
      };
      if (method !== 'GET' && method !== 'HEAD') {
        const parsed = req.readableEnded ? preParsedBody(req) : null;
        if (parsed !== null) {
          init.body = parsed;
          if (parsed instanceof ReadableStream) init.duplex = 'half';
          (init.headers as Headers).delete('content-length');
        } else if (!req.readableEnded) {
          init.body = bodyStream(req, limit);
          init.duplex = 'half';
        }
      }
      const response = await handler(toRequest(requestUrl(req), method, init));
      if (next !== undefined && isUnmatched(response)) {
        passed = true;
        next();
        return;
      }
      if (controller.signal.aborted) return;
      // Answered before the body was read (413, 401 ...): read the rest first, so the client
      // gets to read the answer.
      if (!req.readableEnded) await discardRest(req);
      await writeResponse(response, req, res, controller.signal);
    } catch (error) {
      if (!res.headersSent && !controller.signal.aborted) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: 'A server error occurred.' }));
      } else {
        res.destroy(error instanceof Error ? error : undefined);
      }
    } finally {
      res.off('close', onClose);
      if (!passed) void discardRest(req);
    }
  };
}
