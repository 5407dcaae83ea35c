/**
 * The global fetch, called without the `dispatcher` option it was given: what Bun's and Deno's
 * fetch do. A kyTransport using it must notice and keep the SSRF guard on another way.
 */
export function fetchIgnoringDispatcher(
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  if (init === undefined) return fetch(input);
  const { dispatcher: _ignored, ...rest } = init as RequestInit & { dispatcher?: unknown };
  return fetch(input, rest);
}
