/** Small response helpers shared by the dialects. */

const unmatched = new WeakSet<Response>();

/** A JSON response with `Content-Type: application/json`. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A response without a body (204, or a HEAD answer). */
export function emptyResponse(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

/** Marks a response as "this request is outside the handler's base path". */
export function markUnmatched(response: Response): Response {
  unmatched.add(response);
  return response;
}

/**
 * True when a handler answered 404 only because the request's path is outside its base path,
 * so a host can try its next handler.
 *
 * @example
 * ```ts
 * const response = await pretix(request);
 * if (isUnmatched(response)) return next();
 * ```
 */
export function isUnmatched(response: Response): boolean {
  return unmatched.has(response);
}

/** Drops the body of a response (for HEAD), keeping status and headers. */
export function withoutBody(response: Response): Response {
  const copy = new Response(null, { status: response.status, headers: response.headers });
  if (unmatched.has(response)) unmatched.add(copy);
  return copy;
}
