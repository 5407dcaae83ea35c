import { Agent } from 'undici';

/**
 * What the runtime honours of the guarded undici connection, found out by looking at the
 * mechanisms themselves rather than at the runtime's name.
 *
 * - The undici dispatcher API: Node and Deno load the real `undici` package, whose `Agent`
 *   dispatches through hookline's guarded connector. Bun replaces `undici` with a shim whose
 *   `Agent` has no `dispatch`, `request` or `close`.
 * - fetch's `dispatcher` option: Node's fetch (undici inside) sends through the dispatcher it is
 *   given; Bun's and Deno's fetch ignore it and connect on their own, so a guarded `Agent` passed
 *   to them guards nothing.
 */

/**
 * Whether the loaded `undici` has a working dispatcher API (`Agent.prototype.dispatch` and
 * `close`), so that {@link undiciTransport} and `createGuardedAgent()` can send through the SSRF
 * guard. `true` on Node and Deno, `false` on Bun (its built-in `undici` shim).
 *
 * @example
 * ```ts
 * const transport = undiciDispatcherSupported() ? undiciTransport() : nodeTransport();
 * ```
 */
export function undiciDispatcherSupported(): boolean {
  const proto: unknown = Agent.prototype;
  if (typeof proto !== 'object' || proto === null) return false;
  const { dispatch, close } = proto as { dispatch?: unknown; close?: unknown };
  return typeof dispatch === 'function' && typeof close === 'function';
}

/** A fetch function, as ky calls it. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const probes = new WeakMap<FetchFunction, Promise<boolean>>();

/** The probe's target: the unspecified port on loopback, refused locally by every runtime. */
const PROBE_URL = 'http://127.0.0.1:0/';
/** A watchdog only: a runtime settles the probe within milliseconds either way. */
const PROBE_WATCHDOG_MS = 5_000;

/**
 * Whether `fetchFn` sends through the undici dispatcher passed as its `dispatcher` option.
 * Probed once per fetch function (the result is kept): the probe calls `fetchFn` with a stand-in
 * dispatcher that records the call and fails the request. If the stand-in is called, the fetch
 * honours `dispatcher`; otherwise the runtime tried to connect on its own, to `127.0.0.1:0`,
 * which is refused locally without anything leaving the machine. Node's fetch: `true`; Bun's and
 * Deno's: `false`. Default `fetchFn`: the global `fetch`.
 *
 * @example
 * ```ts
 * if (!(await fetchHonoursDispatcher())) console.warn('a guarded Agent passed to fetch would be ignored here');
 * ```
 */
export function fetchHonoursDispatcher(fetchFn: FetchFunction = globalThis.fetch): Promise<boolean> {
  let probe = probes.get(fetchFn);
  if (!probe) {
    probe = runProbe(fetchFn);
    probes.set(fetchFn, probe);
  }
  return probe;
}

function runProbe(fetchFn: FetchFunction): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const controller = new AbortController();
    const sentinel = new Error('hookline: dispatcher probe (nothing is sent).');
    const watchdog = setTimeout(() => {
      resolve(false);
      controller.abort(sentinel);
    }, PROBE_WATCHDOG_MS);
    watchdog.unref?.();
    const settle = (honoured: boolean): void => {
      clearTimeout(watchdog);
      resolve(honoured); // the first call wins
    };
    const dispatcher = {
      dispatch(_options: unknown, handler: { onError?: (err: Error) => void }): boolean {
        settle(true);
        // Fail the probe request later, not inside dispatch: Node 20's fetch asserts when its
        // signal aborts during dispatch. `onError` settles a fetch that dropped the signal.
        queueMicrotask(() => {
          try {
            handler.onError?.(sentinel);
          } catch {
            // The abort below settles it.
          }
          controller.abort(sentinel);
        });
        return false;
      },
    };
    const init: RequestInit = { signal: controller.signal };
    Object.assign(init, { dispatcher });
    try {
      fetchFn(PROBE_URL, init).then(
        () => settle(false),
        () => settle(false),
      );
    } catch {
      settle(false);
    }
  });
}
