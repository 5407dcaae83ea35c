import { Agent, type Dispatcher, type Pool } from 'undici';
import { HooklineError } from '../../errors.js';
import {
  BodyCollector,
  completedResult,
  failure,
  headersFor,
  parseTarget,
  pickRawResponseHeaders,
  type Transport,
  type TransportRequest,
  type TransportResult,
  toTransportError,
} from './contract.js';
import { OriginPools } from './origin-pools.js';
import { undiciDispatcherSupported } from './runtime.js';
import { createSsrfGuard, isSsrfGuard, type SsrfGuard, type SsrfOptions } from './ssrf.js';

/** Options of {@link createGuardedAgent}. */
export interface GuardedAgentOptions {
  /** SSRF guard options, or a guard built with `createSsrfGuard()`. Default: block every non-public address. */
  ssrf?: SsrfOptions | SsrfGuard;
  /** Connections per origin. Default: unlimited (bounded by the caller's concurrency). */
  connections?: number;
  /** Requests pipelined per connection. Default `1` (no pipelining). */
  pipelining?: number;
  /** Connect (TCP + TLS) timeout in ms; the attempt deadline still applies. Default `10_000`. */
  connectTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept, in ms. Default `4_000`. */
  keepAliveTimeoutMs?: number;
}

/**
 * An undici `Agent` whose connections go through the SSRF guard (checked on the resolved
 * address, IP literals included). Used by the undici and ky transports.
 *
 * It guards only what is sent through it: undici's own `request`/`fetch`, and the global fetch
 * on Node. Deno's and Bun's global fetch ignore `dispatcher` (see `fetchHonoursDispatcher()`).
 * Throws a `HooklineError` (`transport_unsupported`) where the loaded undici has no dispatcher API
 * (Bun), rather than return an agent that would guard nothing; use `nodeTransport()` there.
 *
 * @example
 * ```ts
 * const agent = createGuardedAgent({ ssrf: { allow: ['10.0.0.0/8'] }, connections: 32 });
 * await fetch('https://example.com/hook', { dispatcher: agent } as RequestInit);
 * ```
 */
export function createGuardedAgent(options: GuardedAgentOptions = {}): Agent {
  assertDispatcherApi();
  return new Agent(guardedPoolOptions(options));
}

/** Refuses to build a guarded dispatcher where undici's dispatcher API does not work (Bun). */
function assertDispatcherApi(): void {
  if (!undiciDispatcherSupported()) {
    throw new HooklineError(
      'transport_unsupported',
      "The SSRF-guarded undici Agent (undiciTransport(), createGuardedAgent()) cannot run here: this runtime's " +
        '`undici` has no dispatcher API (Bun replaces undici with a shim whose Agent has no dispatch or close), ' +
        'so no connection would go through the guard. Use defaultTransport() or nodeTransport(), which resolve ' +
        'the name, check every address and connect to the checked one.',
    );
  }
}

/**
 * What {@link undiciTransport} sends through: {@link OriginPools} with the guarded connector
 * (the same checks and options as {@link createGuardedAgent}).
 */
function guardedOriginPools(options: GuardedAgentOptions): OriginPools {
  assertDispatcherApi();
  return new OriginPools(guardedPoolOptions(options));
}

/** Pool options with the guarded connector, for an Agent or {@link OriginPools}. */
function guardedPoolOptions(options: GuardedAgentOptions): Pool.Options {
  const guard = isSsrfGuard(options.ssrf) ? options.ssrf : createSsrfGuard(options.ssrf ?? {});
  return {
    connect: guard.connector({ timeout: options.connectTimeoutMs ?? 10_000 }),
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
    ...(options.pipelining === undefined ? {} : { pipelining: options.pipelining }),
  };
}

/** Options of {@link undiciTransport}. */
export interface UndiciTransportOptions extends GuardedAgentOptions {}

/** A transport with a pooled undici dispatcher; `close()` ends its connections. */
export interface PooledTransport extends Transport {
  /** The guarded undici dispatcher used for every attempt (one pool per origin). */
  readonly dispatcher: Dispatcher;
  close(): Promise<void>;
}

/**
 * The fastest transport on Node: undici's dispatcher API (`Agent.request()`), keep-alive
 * connection reuse, the response body streamed and cut at the cap, `headersTimeout`/`bodyTimeout`
 * plus one overall deadline, no redirects, SSRF guard at connect time. The worker's default on
 * Node and Deno (see `defaultTransport()`). Throws a `HooklineError` (`transport_unsupported`) on Bun,
 * whose undici shim has no dispatcher API; use `nodeTransport()` there.
 *
 * Defaults: SSRF guard on (block every non-public address), unlimited connections per origin,
 * no pipelining, connect timeout 10 s, idle keep-alive 4 s.
 *
 * @example
 * ```ts
 * const transport = undiciTransport({ connections: 16 });
 * const result = await deliver(request, { transport });
 * await transport.close();
 * ```
 */
export function undiciTransport(options: UndiciTransportOptions = {}): PooledTransport {
  const agent = guardedOriginPools(options);

  // The dispatcher API with our own handler: no Readable per response, no AbortSignal; the
  // deadline and the body cap abort through the dispatch's abort function.
  function send(req: TransportRequest): Promise<TransportResult> {
    const target = parseTarget(req.url);
    if (!('url' in target)) return Promise.resolve(failure(target));
    const headers = headersFor(target, req.headers);
    return new Promise<TransportResult>((resolve) => {
      const handler = new AttemptHandler(req, resolve);
      try {
        agent.dispatch(
          {
            origin: target.origin,
            path: target.path,
            method: req.method as Dispatcher.HttpMethod,
            headers,
            body: req.body,
            headersTimeout: req.timeoutMs,
            bodyTimeout: req.timeoutMs,
          },
          handler,
        );
      } catch (err) {
        handler.fail(err);
      }
    });
  }

  return {
    name: 'undici',
    dispatcher: agent,
    send,
    close: () => agent.close(),
  };
}

/**
 * One attempt's undici dispatch handler: collects the status, the safe headers and the capped
 * body, and settles once, on the response's end, an error, the cap, or the deadline. A class
 * rather than closures, so an attempt allocates one object.
 *
 * It implements undici's original handler interface (`onConnect`, `onHeaders`, `onData`,
 * `onComplete`, `onError`), the one undici's own `request()` uses: a handler with the newer
 * `onRequestStart`/`onResponse*` methods is wrapped per request in an adapter that also turns
 * every response header into an object. Raw headers let us decode only the few we keep.
 */
class AttemptHandler implements Dispatcher.DispatchHandler {
  #settled = false;
  #abort: ((reason?: Error) => void) | undefined;
  #status = 0;
  #headers: Record<string, string> = {};
  readonly #collector: BodyCollector;
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #request: TransportRequest;
  readonly #resolve: (result: TransportResult) => void;

  constructor(request: TransportRequest, resolve: (result: TransportResult) => void) {
    this.#request = request;
    this.#resolve = resolve;
    this.#collector = new BodyCollector(request.maxResponseBytes);
    this.#timer = setTimeout(() => {
      this.#finish(failure(toTransportError(null, true, request.timeoutMs)));
      this.#abort?.(new Error(`No complete response within ${request.timeoutMs} ms.`));
    }, request.timeoutMs);
  }

  fail(err: unknown): void {
    this.#finish(failure(toTransportError(err, false, this.#request.timeoutMs)));
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#abort = abort;
    if (this.#settled) abort(new Error('Attempt already finished.'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.#status = statusCode;
    this.#headers = pickRawResponseHeaders(rawHeaders);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#collector.push(chunk)) return true;
    this.#complete(); // the cap is reached: keep what we have, stop reading
    this.#abort?.(new Error('Response body cap reached.'));
    return false;
  }

  onComplete(): void {
    this.#complete();
  }

  onError(err: Error): void {
    this.fail(err);
  }

  #complete(): void {
    this.#finish(completedResult(this.#status, this.#headers, this.#collector));
  }

  #finish(result: TransportResult): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#resolve(result);
  }
}
