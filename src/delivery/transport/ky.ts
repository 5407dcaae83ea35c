import ky, { type Hooks, type KyInstance, type Options as KyOptions } from 'ky';
import type { Agent } from 'undici';
import {
  BodyCollector,
  completedResult,
  failure,
  headersFor,
  parseTarget,
  pickResponseHeaders,
  startDeadline,
  type Transport,
  type TransportRequest,
  type TransportResult,
  toTransportError,
} from './contract.js';
import { createDispatcherFetch } from './fetch.js';
import { createGuardedFetch } from './node.js';
import { type FetchFunction, fetchHonoursDispatcher, undiciDispatcherSupported } from './runtime.js';
import { createGuardedAgent, type GuardedAgentOptions } from './undici.js';

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

/** What {@link kyTransport} returns. */
export interface KyTransport extends Transport {
  /**
   * The guarded undici `Agent` handed to fetch as its `dispatcher`, or `undefined` where the
   * loaded undici has no dispatcher API (Bun, where ky sends through hookline's guarded
   * `node:http` fetch instead).
   */
  readonly dispatcher: Agent | undefined;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/**
 * The ky transport (the default of `deliver()`): ky with its own retry off, no redirects, HTTP
 * errors returned rather than thrown, and hookline's deadline (an `AbortSignal` covering connect,
 * headers and body).
 *
 * The SSRF guard is never off. Before the first attempt the transport checks, once per fetch
 * function, whether the fetch ky will call (your ky instance's `fetch`, else the global one)
 * sends through the undici dispatcher it is given (see `fetchHonoursDispatcher()`):
 * - yes (Node): connections go through a guarded undici `Agent` passed as fetch's `dispatcher`,
 *   so the check runs on the connected address;
 * - no (Deno, or a `fetch` of yours that drops `dispatcher`): ky is given a fetch that sends
 *   through the same guarded `Agent` with undici's own API (`agent.request()`);
 * - no undici dispatcher API at all (Bun): ky is given hookline's guarded `node:http` fetch,
 *   which resolves the name, checks every address and connects to the checked one (see
 *   `nodeTransport()`).
 * In the last two cases your instance's `fetch` is not called; its hooks and headers still apply.
 *
 * Defaults: SSRF guard on, the default ky instance, no extra hooks, connect timeout 10 s.
 *
 * @example
 * ```ts
 * const transport = kyTransport({ ky: ky.create({ headers: { 'x-tenant': 'acme' } }) });
 * const result = await deliver(request, { transport });
 * ```
 */
export function kyTransport(options: KyTransportOptions = {}): KyTransport {
  const agent = undiciDispatcherSupported() ? createGuardedAgent(options) : undefined;
  let instanceFetch: FetchFunction | undefined;
  const base = (options.ky ?? ky).extend((parent) => {
    instanceFetch = parent.fetch;
    return {
      retry: 0,
      throwHttpErrors: false,
      redirect: 'manual',
      timeout: false,
      prefixUrl: '',
      ...(options.hooks ? { hooks: options.hooks } : {}),
    };
  });
  let client: KyInstance | undefined;
  let choosing: Promise<KyInstance> | undefined;
  let useDispatcher = false;
  let guarded: ReturnType<typeof createGuardedFetch> | undefined;

  // Pins the fetch ky calls to the one probed, so a global fetch swapped later cannot bypass
  // the guard.
  async function choose(): Promise<KyInstance> {
    const fetchFn: FetchFunction = instanceFetch ?? globalThis.fetch.bind(globalThis);
    const probed = instanceFetch ?? globalThis.fetch;
    if (agent !== undefined) {
      if (await fetchHonoursDispatcher(probed)) {
        useDispatcher = true;
        return base.extend({ fetch: fetchFn });
      }
      // Deno: the real undici with a fetch that ignores it; send through the agent's own API.
      return base.extend({ fetch: createDispatcherFetch(agent) });
    }
    // The options it shares with nodeTransport (ssrf, connections, timeouts) have the same meaning.
    guarded = createGuardedFetch(options);
    return base.extend({ fetch: guarded.fetch });
  }

  async function send(req: TransportRequest): Promise<TransportResult> {
    const target = parseTarget(req.url);
    if (!('url' in target)) return failure(target);
    const headers = headersFor(target, req.headers);
    const deadline = startDeadline(req.timeoutMs);
    try {
      if (client === undefined) {
        choosing ??= choose();
        client = await choosing;
      }
      const init: KyOptions = { method: req.method, headers, body: req.body, signal: deadline.signal };
      // `dispatcher` is not a ky option: ky hands unknown options to fetch, and Node's fetch takes
      // it. (Node 20's bundled undici accepts the installed undici 7 Agent; see docs/delivery.md.)
      if (useDispatcher) Object.assign(init, { dispatcher: agent });
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
      return completedResult(res.status, picked, collector);
    } catch (err) {
      return failure(toTransportError(err, deadline.expired(), req.timeoutMs));
    } finally {
      deadline.clear();
    }
  }

  return {
    name: 'ky',
    dispatcher: agent,
    send,
    close: async () => {
      guarded?.close();
      await agent?.close();
    },
  };
}
