/**
 * Request methods the Fetch API refuses. `new Request(url, { method: 'TRACE' })` throws, so the
 * Node adapter cannot hand such a request to a Fetch handler as it is. It builds the `Request`
 * with a stand-in method instead and records the real one here; the dialect handlers read it
 * with {@link requestMethod} and answer 405 in their own format, as for any other method they
 * do not serve.
 */

/**
 * Methods `new Request()` refuses (the Fetch standard's forbidden methods), upper case.
 *
 * @example
 * ```ts
 * FETCH_FORBIDDEN_METHODS.includes('TRACE'); // true
 * ```
 */
export const FETCH_FORBIDDEN_METHODS: readonly string[] = Object.freeze(['CONNECT', 'TRACE', 'TRACK']);

/**
 * The method a stand-in request is built with: a valid token that no route of either dialect
 * serves, so a handler that cannot see the real method still answers 405.
 */
export const STAND_IN_METHOD = 'X-HOOKLINE-UNSUPPORTED';

const realMethods = new WeakMap<Request, string>();

/**
 * Builds a `Request` for a method the Fetch API refuses: same URL and headers, no body, method
 * {@link STAND_IN_METHOD}; {@link requestMethod} returns `method` for it.
 */
export function standInRequest(url: string, method: string, init: RequestInit): Request {
  const standIn: RequestInit = { method: STAND_IN_METHOD };
  if (init.headers !== undefined) standIn.headers = init.headers;
  if (init.signal !== undefined) standIn.signal = init.signal;
  const request = new Request(url, standIn);
  realMethods.set(request, method.toUpperCase());
  return request;
}

/**
 * The method of a request as the client sent it, upper case. For a request the Node adapter
 * (`toNodeHandler`) built for a method the Fetch API refuses (`CONNECT`, `TRACE`, `TRACK`),
 * `request.method` is a stand-in (`X-HOOKLINE-UNSUPPORTED`) and this returns the real one; for
 * any other request it is `request.method` in upper case. Use it in an `authorize` callback
 * that looks at the method.
 *
 * @example
 * ```ts
 * const authorize: Authorize = ({ request }) => requestMethod(request) === 'GET' || checkToken(request);
 * ```
 */
export function requestMethod(request: Request): string {
  return realMethods.get(request) ?? request.method.toUpperCase();
}
