/**
 * Shared types of the HTTP route handlers (`hookline/http`).
 */

/** The permission a request needs: reading webhooks or changing them (Taler's names). */
export type Permission = 'webhooks-read' | 'webhooks-write';

/**
 * What `authorize` decides:
 *
 * - `true`: allowed;
 * - `false`: authenticated but not allowed (pretix 403, Taler 401 code 2015);
 * - `'unauthenticated'`: no credentials (pretix 401 `{"detail": "Authentication credentials
 *   were not provided."}`, Taler 401 code 2015);
 * - `'invalid_token'`: credentials were given but the token is not known (or expired, or
 *   revoked): pretix 401 `{"detail": "Invalid token."}`, Taler 401 code 2015.
 *
 * Both 401s of pretix carry `WWW-Authenticate: Token`.
 *
 * @example
 * ```ts
 * const result: AuthorizeResult = header === null ? 'unauthenticated' : 'invalid_token';
 * ```
 */
export type AuthorizeResult = boolean | 'unauthenticated' | 'invalid_token';

/** What the handlers pass to `authorize`. */
export interface AuthorizeContext {
  /** The incoming request, e.g. to read its `Authorization` header. */
  request: Request;
  /** The scope (pretix organizer slug, Taler instance id) the request addresses. */
  scope: string;
  /** The permission the request needs. */
  permission: Permission;
}

/**
 * The host's authorization callback (see {@link AuthorizeResult} for what each answer means).
 * It may return or resolve; a throw becomes a 500 answer (in the dialect's error shape), is
 * reported to `onError` and is never shown to the client. Anything other than the four
 * answers counts as `false`.
 *
 * @example
 * ```ts
 * const authorize: Authorize = ({ request, scope }) => {
 *   const token = request.headers.get('authorization')?.replace(/^(Token|Bearer) /, '');
 *   if (!token) return 'unauthenticated'; // pretix: "Authentication credentials were not provided."
 *   const scopes = tokens.get(token);
 *   if (scopes === undefined) return 'invalid_token'; // pretix: "Invalid token."
 *   return scopes.includes(scope);
 * };
 * ```
 */
export type Authorize = (context: AuthorizeContext) => AuthorizeResult | Promise<AuthorizeResult>;

/** A Fetch-API route handler: one `Request` in, one `Response` out. Never rejects. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Options both dialect handlers accept. */
export interface HandlerOptions {
  /**
   * The host's authorization callback (required): `true`, `false`, `'unauthenticated'` (no
   * credentials) or `'invalid_token'` (a token it does not know), maybe as a promise. See
   * {@link AuthorizeResult}.
   *
   * @example
   * ```ts
   * pretixHandler(registry, { authorize: ({ request }) => (request.headers.has('authorization') ? 'invalid_token' : 'unauthenticated') });
   * ```
   */
  authorize: Authorize;
  /**
   * Tells whether a scope exists (pretix: unknown organizer → 403; Taler: unknown instance →
   * 404 code 2000). Default: every scope exists.
   */
  scopeExists?: (scope: string) => boolean | Promise<boolean>;
  /**
   * Largest accepted request body in bytes; larger bodies get a 413 before they are read in
   * full (the `Content-Length` is checked first, then bytes are counted while streaming).
   * Default 1 048 576 (1 MiB).
   */
  maxBodyBytes?: number;
  /**
   * Called with every unexpected error (a throwing `authorize`, a failing store). The client
   * gets a generic 500 in the dialect's shape. Default: the registry's `logger.error`, or
   * `console.error` when the registry has no logger.
   */
  onError?: (error: unknown, request: Request) => void;
  /**
   * When set, `GET` on this exact pathname (e.g. `/api/v1/openapi.json`) returns the dialect's
   * OpenAPI 3.1 document, without authorization. Default: not served.
   */
  openApiPath?: string;
}

/** Default of {@link HandlerOptions.maxBodyBytes}: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
