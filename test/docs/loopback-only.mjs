/**
 * Preloaded (`node --import`) into every documentation snippet the tests run, and into the
 * Next.js example's build and server: the process may open connections to loopback addresses
 * and local sockets only, and may not resolve any name but `localhost`. A refused attempt
 * fails with `ECONNREFUSED` or `ENOTFOUND` and is reported on stderr as a line starting with
 * `[loopback-only] refused`, so a test can tell that nothing tried to reach the network.
 * Plain JavaScript, so that it loads without a TypeScript loader (as in `NODE_OPTIONS`).
 */
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

/** Whether `host` is `localhost` or a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z). */
export function isLoopback(host) {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (net.isIPv6(bare)) {
    const lower = bare.toLowerCase();
    return lower === '::1' || /^(?:0{1,4}:){7}0{0,3}1$/.test(lower) || /^::ffff:127\./.test(lower);
  }
  return false;
}

function refusal(code, what) {
  process.stderr.write(`[loopback-only] refused ${what}\n`);
  const error = new Error(`this process may only reach loopback: ${what} refused (loopback-only.mjs)`);
  error.code = code;
  return error;
}

const normalize = net._normalizeArgs;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const [options] = Array.isArray(args[0]) ? args[0] : normalize(args);
  if (options.path === undefined) {
    const host = options.host ?? 'localhost';
    if (!isLoopback(host)) {
      process.nextTick(() => this.destroy(refusal('ECONNREFUSED', `a connection to ${host}`)));
      return this;
    }
  }
  return connect.apply(this, args);
};

/** Wraps a callback-style resolver function: names other than localhost fail with ENOTFOUND. */
function guardCallback(original, name) {
  return function guarded(hostname, ...rest) {
    if (typeof hostname === 'string' && !isLoopback(hostname)) {
      const callback = rest.at(-1);
      if (typeof callback === 'function') {
        const error = refusal('ENOTFOUND', `${name}(${hostname})`);
        process.nextTick(() => callback(error));
        return undefined;
      }
    }
    return original.call(this, hostname, ...rest);
  };
}

/** Wraps a promise-style resolver function the same way. */
function guardPromise(original, name) {
  return function guarded(hostname, ...rest) {
    if (typeof hostname === 'string' && !isLoopback(hostname)) {
      return Promise.reject(refusal('ENOTFOUND', `${name}(${hostname})`));
    }
    return original.call(this, hostname, ...rest);
  };
}

for (const name of Object.keys(dns).filter((k) => k === 'lookup' || k.startsWith('resolve'))) {
  if (typeof dns[name] === 'function') dns[name] = guardCallback(dns[name], `dns.${name}`);
  if (typeof dns.promises[name] === 'function') {
    dns.promises[name] = guardPromise(dns.promises[name], `dns.promises.${name}`);
  }
}
syncBuiltinESMExports();
