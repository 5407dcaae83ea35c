import ky, { type Hooks, type KyInstance, type Options as KyOptions } from 'ky';
import {
  BodyCollector,
  failure,
  parseTarget,
  pickResponseHeaders,
  redirectError,
  startDeadline,
  type TransportRequest,
  type TransportResult,
  toTransportError,
} from './transport.js';
import { createGuardedAgent, type GuardedAgentOptions, type PooledTransport } from './transport-undici.js';

/** Options of {@link kyTransport}. */
export interface KyTransportOptions extends GuardedAgentOptions {
  /**
   * Your own ky instance (with your hooks, headers…). hookline extends it with `retry: 0`,
   * `throwHttpErrors: false`, `redirect: 'manual'`, `timeout: false` and no `prefixUrl`: hookline
   * owns retries, redirects and the deadline. Default: the `ky` default export.
   */
  ky?: KyInstance;
  /** ky hooks added to every attempt (e.g. `beforeRequest` for tracing headers). */
  hooks?: Hooks;
}

/**
 * The ky transport (the default of `deliver()`): ky with its own retry off, no redirects, HTTP
 * errors returned rather than thrown, and hookline's deadline (an `AbortSignal` covering connect,
 * headers and body). Connections go through a guarded undici `Agent` passed to fetch as its
 * `dispatcher`, so the SSRF check runs on the connected address.
 *
 * Defaults: SSRF guard on, the default ky instance, no extra hooks, connect timeout 10 s.
 *
 * @example
 * ```ts
 * const transport = kyTransport({ ky: ky.create({ headers: { 'x-tenant': 'acme' } }) });
 * const result = await deliver(request, { transport });
 * ```
 */
export function kyTransport(options: KyTransportOptions = {}): PooledTransport {
  const agent = createGuardedAgent(options);
  const client = (options.ky ?? ky).extend({
    retry: 0,
    throwHttpErrors: false,
    redirect: 'manual',
    timeout: false,
    prefixUrl: '',
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });

  async function send(req: TransportRequest): Promise<TransportResult> {
    const target = parseTarget(req.url);
    if (!('url' in target)) return failure(target);
    const headers = target.authorization
      ? { authorization: target.authorization, ...req.headers }
      : req.headers;
    const deadline = startDeadline(req.timeoutMs);
    try {
      const init: KyOptions = { method: req.method, headers, body: req.body, signal: deadline.signal };
      // `dispatcher` is not a ky option: ky hands unknown options to fetch, and Node's fetch takes
      // it. (Node 20's bundled undici accepts the installed undici 7 Agent; see docs/delivery.md.)
      Object.assign(init, { dispatcher: agent });
      const res = await client(target.url, init);
      const picked = pickResponseHeaders((name) => res.headers.get(name));
      const collector = new BodyCollector(req.maxResponseBytes);
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!collector.push(value)) {
            await reader.cancel().catch(() => undefined);
            break;
          }
        }
      }
      const result: TransportResult = {
        status: res.status,
        headers: picked,
        body: collector.text(),
        bodyTruncated: collector.truncated,
      };
      const redirect = redirectError(res.status, picked.location);
      if (redirect) result.error = redirect;
      return result;
    } catch (err) {
      return failure(toTransportError(err, deadline.expired(), req.timeoutMs));
    } finally {
      deadline.clear();
    }
  }

  return { name: 'ky', dispatcher: agent, send, close: () => agent.close() };
}
