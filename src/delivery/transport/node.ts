import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import {
  BodyCollector,
  completedResult,
  failure,
  headersFor,
  parseTarget,
  pickRawResponseHeaders,
  startDeadline,
  type Target,
  type Transport,
  type TransportRequest,
  type TransportResult,
  toTransportError,
} from './contract.js';
import { coded, fetchFailed, NO_BODY_METHODS, readFetchRequest, toFetchResponse } from './fetch.js';
import { createSsrfGuard, isSsrfGuard, normaliseHost, type SsrfGuard, type SsrfOptions } from './ssrf.js';

/**
 * The guarded `node:http` path: resolve the hostname, check every address with the SSRF guard,
 * then connect to the checked address itself (`host: <ip>`), with the URL's host in the `Host`
 * header and its name as the TLS server name (SNI and certificate check). Nothing resolves the
 * name again after the check, so DNS rebinding cannot change the address. It needs nothing but
 * `node:http`/`node:https` basics, which Node, Bun and Deno all honour.
 */

/** Options of {@link nodeTransport}. */
export interface NodeTransportOptions {
  /** SSRF guard options, or a guard built with `createSsrfGuard()`. Default: block every non-public address. */
  ssrf?: SsrfOptions | SsrfGuard;
  /** Connections per address. Default: unlimited (bounded by the caller's concurrency). */
  connections?: number;
  /** TCP connect timeout in ms (TLS included for HTTPS); the attempt deadline still applies. Default `10_000`. */
  connectTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept, in ms. Default `4_000`. */
  keepAliveTimeoutMs?: number;
  /**
   * Certificates (PEM) trusted for HTTPS receivers, e.g. a private CA of your own hooks. Replaces
   * the runtime's default list, as `ca` does in `node:tls`. Default: the runtime's trusted CAs.
   */
  ca?: string | readonly string[];
}

/** An open exchange: the request, and its response once the status line and headers arrived. */
interface Exchange {
  req: http.ClientRequest;
  res: http.IncomingMessage;
}

/**
 * Opens guarded exchanges through keep-alive `node:http`/`node:https` agents. Connections are
 * pooled per checked address (the agents key them by IP, port and server name).
 */
class GuardedConnector {
  readonly #guard: SsrfGuard;
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #connectTimeoutMs: number;
  readonly #ca: string | string[] | undefined;

  constructor(options: NodeTransportOptions) {
    this.#guard = isSsrfGuard(options.ssrf) ? options.ssrf : createSsrfGuard(options.ssrf ?? {});
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      timeout: options.keepAliveTimeoutMs ?? 4_000,
      ...(options.connections === undefined ? {} : { maxSockets: options.connections }),
    };
    this.#http = new http.Agent(agentOptions);
    this.#https = new https.Agent(agentOptions);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const ca = options.ca;
    this.#ca = ca === undefined ? undefined : typeof ca === 'string' ? ca : [...ca];
  }

  /**
   * Resolves and checks the target's hostname, then connects to the checked addresses in the
   * order resolved (the next one only when connecting to the previous one failed, before any byte
   * of the request was sent) and sends the request. Resolves once the response headers arrived;
   * rejects with the guard's `SsrfBlockedError`, a DNS error or a connection error, or with
   * `signal`'s reason once it aborted.
   */
  async open(
    target: Target,
    method: string,
    headers: Record<string, string>,
    body: Uint8Array,
    signal: AbortSignal,
  ): Promise<Exchange> {
    const url = target.url;
    const name = normaliseHost(url.hostname);
    const addresses = await this.#guard.resolve(name);
    signal.throwIfAborted();
    if (addresses.length === 0) throw coded('ENOTFOUND', `getaddrinfo ENOTFOUND ${name}`);

    const tls = url.protocol === 'https:';
    const outgoing: Record<string, string> = { host: url.host };
    for (const key in headers) if (Object.hasOwn(headers, key)) outgoing[key] = headers[key] as string;
    if (body.byteLength > 0 || !NO_BODY_METHODS.has(method.toUpperCase())) {
      outgoing['content-length'] = String(body.byteLength);
    }
    const base: https.RequestOptions = {
      port: url.port === '' ? (tls ? 443 : 80) : Number(url.port),
      method,
      path: target.path,
      headers: outgoing,
      agent: tls ? this.#https : this.#http,
    };
    // SNI and the certificate check use the URL's name; an IP literal is checked against the
    // certificate's IP addresses and sends no SNI.
    if (tls && isIP(name) === 0) base.servername = name;
    if (tls && this.#ca !== undefined) base.ca = this.#ca;

    let lastError: unknown;
    for (const checked of addresses) {
      signal.throwIfAborted();
      const outcome = await this.#attempt(
        tls,
        { ...base, host: checked.address, family: checked.family },
        body,
        signal,
      );
      if ('res' in outcome) return outcome;
      if (!outcome.beforeConnect || signal.aborted) throw signal.aborted ? signal.reason : outcome.error;
      lastError = outcome.error;
    }
    throw lastError;
  }

  /** One connection attempt to one checked address. Never rejects: failures are returned. */
  #attempt(
    tls: boolean,
    options: https.RequestOptions,
    body: Uint8Array,
    signal: AbortSignal,
  ): Promise<Exchange | { error: unknown; beforeConnect: boolean }> {
    return new Promise((resolve) => {
      let req: http.ClientRequest;
      try {
        req = (tls ? https : http).request(options);
      } catch (err) {
        resolve({ error: err, beforeConnect: false }); // an invalid method or header: not retried
        return;
      }
      let connected = false;
      let connectTimer: ReturnType<typeof setTimeout> | undefined;
      const clearConnectTimer = (): void => {
        if (connectTimer !== undefined) clearTimeout(connectTimer);
        connectTimer = undefined;
      };
      // Destroyed without an error: a socket that already went back to the pool must not emit
      // one with no listener. The request's own error listener reports the abort.
      const onAbort = (): void => {
        clearConnectTimer();
        req.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('socket', (socket) => {
        if (!socket.connecting) {
          connected = true; // a kept-alive connection
          return;
        }
        const where = `${options.host}:${options.port}`;
        connectTimer = setTimeout(() => {
          req.destroy(coded('ETIMEDOUT', `Connect timeout after ${this.#connectTimeoutMs} ms (${where}).`));
        }, this.#connectTimeoutMs);
        socket.once(tls ? 'secureConnect' : 'connect', () => {
          connected = true;
          clearConnectTimer();
        });
      });
      req.on('response', (res) => {
        clearConnectTimer();
        res.once('close', () => signal.removeEventListener('abort', onAbort));
        resolve({ req, res });
      });
      req.on('error', (err) => {
        clearConnectTimer();
        signal.removeEventListener('abort', onAbort);
        resolve({ error: err, beforeConnect: !connected });
      });
      req.end(body);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

/**
 * A transport on `node:http`/`node:https` that enforces the SSRF guard without undici: it
 * resolves the hostname, checks every address it resolves to, then connects to the checked
 * address itself, sending the URL's host as `Host` and its name as the TLS server name (SNI and
 * certificate check). The worker's default where undici's dispatcher API is missing (Bun); it
 * runs on Node and Deno too. Same semantics as the other transports: one deadline over connect,
 * headers and body, no redirects, the body cut at the cap, errors as data. The addresses a name
 * resolves to are tried in order when connecting fails, as Node's `net` does.
 *
 * Defaults: SSRF guard on (block every non-public address), unlimited connections per address,
 * connect timeout 10 s, idle keep-alive 4 s, the runtime's trusted CAs.
 *
 * @example
 * ```ts
 * const transport = nodeTransport({ ssrf: { allow: ['hooks.internal'] } });
 * const result = await deliver(request, { transport });
 * await transport.close();
 * ```
 */
export function nodeTransport(options: NodeTransportOptions = {}): Transport & { close(): Promise<void> } {
  const connector = new GuardedConnector(options);

  function send(req: TransportRequest): Promise<TransportResult> {
    const target = parseTarget(req.url);
    if (!('url' in target)) return Promise.resolve(failure(target));
    const headers = headersFor(target, req.headers);
    return new Promise<TransportResult>((resolve) => {
      const deadline = startDeadline(req.timeoutMs);
      let settled = false;
      const finish = (result: TransportResult): void => {
        if (settled) return;
        settled = true;
        deadline.clear();
        resolve(result);
      };
      const fail = (err: unknown): void => finish(failure(toTransportError(err, false, req.timeoutMs)));
      // Settles at the deadline, before the abort reaches the connection (this listener is the
      // signal's first), and without waiting for a DNS lookup, which the signal cannot stop.
      deadline.signal.addEventListener(
        'abort',
        () => finish(failure(toTransportError(null, true, req.timeoutMs))),
        { once: true },
      );

      connector.open(target, req.method, headers, req.body, deadline.signal).then(({ res }) => {
        if (settled) {
          res.destroy();
          return;
        }
        const status = res.statusCode ?? 0;
        const picked = pickRawResponseHeaders(res.rawHeaders);
        const collector = new BodyCollector(req.maxResponseBytes);
        const complete = (): void => finish(completedResult(status, picked, collector));
        res.on('data', (chunk: Buffer) => {
          if (settled || collector.push(chunk)) return;
          complete(); // the cap is reached: keep what we have, stop reading
          res.destroy(); // closes the connection unless the whole response was already read
        });
        res.on('end', complete);
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(coded('ECONNRESET', 'The connection closed before the response ended.'));
        });
      }, fail);
    });
  }

  return {
    name: 'node',
    send,
    close: async () => connector.close(),
  };
}

/**
 * A fetch function that sends through the guarded `node:http` path (see {@link nodeTransport}):
 * resolve, check, connect to the checked address. Redirects are returned, never followed. The
 * request body is read whole before sending; the response body streams. Rejects like fetch
 * (a `TypeError` whose `cause` is the guard's `SsrfBlockedError`, a DNS or a connection error).
 * `kyTransport()` gives it to ky where the loaded undici has no dispatcher API (Bun).
 *
 * @example
 * ```ts
 * const { fetch, close } = createGuardedFetch({ ssrf: { allow: ['10.0.0.0/8'] } });
 * const res = await fetch('https://hooks.example/in', { method: 'POST', body: '{}' });
 * close();
 * ```
 */
export function createGuardedFetch(options: NodeTransportOptions = {}): {
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  close(): void;
} {
  const connector = new GuardedConnector(options);

  async function guardedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const { target, method, headers, body, signal } = await readFetchRequest(input, init);
    let exchange: Exchange;
    try {
      exchange = await connector.open(target, method, headers, body, signal);
    } catch (err) {
      throw fetchFailed(err, signal);
    }
    const { res } = exchange;
    const raw = res.rawHeaders;
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string]);
    return toFetchResponse(method, res.statusCode ?? 0, res.statusMessage ?? '', pairs, res, signal);
  }

  return { fetch: guardedFetch, close: () => connector.close() };
}
