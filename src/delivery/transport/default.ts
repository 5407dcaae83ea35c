import type { Transport } from './contract.js';
import { type NodeTransportOptions, nodeTransport } from './node.js';
import { undiciDispatcherSupported } from './runtime.js';
import { type UndiciTransportOptions, undiciTransport } from './undici.js';

/** Options of {@link defaultTransport}: those of both transports it may pick. */
export interface DefaultTransportOptions extends UndiciTransportOptions, NodeTransportOptions {}

/**
 * The worker's default transport for this runtime, SSRF guard always on: {@link undiciTransport}
 * where the loaded undici has a working dispatcher API (Node, Deno), else {@link nodeTransport}
 * (Bun), which resolves the name, checks every address and connects to the checked one. The
 * choice follows `undiciDispatcherSupported()`, not the runtime's name. `pipelining` applies to
 * the undici transport only, `ca` to the `node:http` one only.
 *
 * Defaults: those of the chosen transport (guard on, connect timeout 10 s, idle keep-alive 4 s).
 *
 * @example
 * ```ts
 * const transport = defaultTransport({ ssrf: { allow: ['hooks.internal'] }, connections: 16 });
 * transport.name; // 'undici' on Node and Deno, 'node' on Bun
 * await transport.close();
 * ```
 */
export function defaultTransport(
  options: DefaultTransportOptions = {},
): Transport & { close(): Promise<void> } {
  if (undiciDispatcherSupported()) return undiciTransport(options);
  return nodeTransport(options);
}
