/**
 * Preloaded (`node --import`) into every documentation snippet the tests run: the process may
 * open connections to loopback addresses and local sockets only, and may not resolve any name
 * but `localhost`. A snippet that tries to reach the internet fails with `ECONNREFUSED` or
 * `ENOTFOUND` instead of depending on the network.
 */
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

/** Whether `host` is `localhost` or a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z). */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (net.isIPv6(bare)) {
    const lower = bare.toLowerCase();
    return lower === '::1' || /^(?:0*:)*:?0*1$/.test(lower) || /^::ffff:127\./.test(lower);
  }
  return false;
}

function refusal(code: 'ECONNREFUSED' | 'ENOTFOUND', what: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(
    `documentation snippets may only reach loopback: ${what} refused (test/docs/loopback-only.ts)`,
  );
  error.code = code;
  return error;
}

type NormalizedConnect = [{ host?: string; path?: string }, ...unknown[]];
const normalize = (net as unknown as { _normalizeArgs(args: unknown[]): NormalizedConnect })._normalizeArgs;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const first = args[0];
  const [options] = Array.isArray(first) ? (first as NormalizedConnect) : normalize(args);
  if (options.path === undefined) {
    const host = options.host ?? 'localhost';
    if (!isLoopback(host)) {
      process.nextTick(() => this.destroy(refusal('ECONNREFUSED', `connection to ${host}`)));
      return this;
    }
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

type Callback = (error: NodeJS.ErrnoException | null, ...rest: unknown[]) => void;

/** Wraps a callback-style resolver function: names other than localhost fail with ENOTFOUND. */
function guardCallback<T extends (...args: never[]) => unknown>(original: T, name: string): T {
  return function guarded(this: unknown, hostname: unknown, ...rest: unknown[]) {
    if (typeof hostname === 'string' && !isLoopback(hostname)) {
      const callback = rest.at(-1);
      if (typeof callback === 'function') {
        process.nextTick(() => (callback as Callback)(refusal('ENOTFOUND', `${name}(${hostname})`)));
        return undefined;
      }
    }
    return (original as unknown as (...a: unknown[]) => unknown).call(this, hostname, ...rest);
  } as unknown as T;
}

/** Wraps a promise-style resolver function the same way. */
function guardPromise<T extends (...args: never[]) => unknown>(original: T, name: string): T {
  return function guarded(this: unknown, hostname: unknown, ...rest: unknown[]) {
    if (typeof hostname === 'string' && !isLoopback(hostname)) {
      return Promise.reject(refusal('ENOTFOUND', `${name}(${hostname})`));
    }
    return (original as unknown as (...a: unknown[]) => unknown).call(this, hostname, ...rest);
  } as unknown as T;
}

const resolverNames = Object.keys(dns).filter((k) => k === 'lookup' || k.startsWith('resolve'));
const mutableDns = dns as unknown as Record<string, (...args: never[]) => unknown>;
const mutablePromises = dns.promises as unknown as Record<string, (...args: never[]) => unknown>;
for (const name of resolverNames) {
  const original = mutableDns[name];
  if (typeof original === 'function') mutableDns[name] = guardCallback(original, `dns.${name}`);
  const promised = mutablePromises[name];
  if (typeof promised === 'function') mutablePromises[name] = guardPromise(promised, `dns.promises.${name}`);
}
syncBuiltinESMExports();
