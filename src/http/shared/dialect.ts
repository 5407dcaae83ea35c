/**
 * The skeleton every wire dialect shares: parse the URL, serve the OpenAPI document, claim
 * only the dialect's own paths, find the route in the table, authorize the scope, answer 405
 * (with `Allow`) and OPTIONS, run the operation, map its errors, strip HEAD bodies, and turn
 * anything unexpected into the dialect's 500. A dialect supplies its route table and the
 * shape of each answer; nothing here knows which dialect it serves.
 *
 * Adding a dialect: a new folder under `src/http/` with its `handler.ts` (routes + answers,
 * built on {@link createDialectHandler}), its `wire.ts`, `schemas.ts` and `openapi.ts`, and a
 * line in `src/http/index.ts`. No file in `shared/` changes.
 */
import { authorizeRequest, isSafeMethod, type ResolvedOptions, report, scopeKnown } from './common.js';
import { requestMethod } from './method.js';
import type { OpenApiDocument } from './openapi.js';
import { belongsTo, pathnameOf, splitPath } from './paths.js';
import { markUnmatched, withoutBody } from './respond.js';
import { compileRoutes, type ParamsOf, type PathParams } from './router.js';
import type { AuthorizeResult, FetchHandler, Permission } from './types.js';

/** What an operation, and every dialect answer about a matched route, gets to see. */
export interface RouteContext<Params extends PathParams = PathParams> {
  /** The incoming request. */
  request: Request;
  /** Its parsed URL (query parameters, origin for links). */
  url: URL;
  /** The method as the client sent it, upper case (see `requestMethod`). */
  method: string;
  /** The route's operation name, e.g. `list` or `ping`. */
  operation: string;
  /** The scope: the `:scope` path parameter, or the dialect's `defaultScope`. */
  scope: string;
  /** The path parameters, e.g. `{ scope: 'acme', id: '1' }`. */
  params: Params;
  /** The route's methods, for `Allow` headers, e.g. `['GET', 'HEAD', 'OPTIONS']`. */
  allow: readonly string[];
}

/** One entry of a dialect's route table (see {@link route}). */
export interface Route {
  /** The operation's name, handed to the answers as `RouteContext.operation`. */
  readonly operation: string;
  /** The path pattern below `basePath`, e.g. `organizers/:scope/webhooks/:id`. */
  readonly path: string;
  /** Methods served; any other gets the dialect's 405. Include `OPTIONS` to answer it. */
  readonly methods: readonly string[];
  /** Runs the operation once access is granted and the method is allowed (not for OPTIONS). */
  readonly run: (context: RouteContext) => Promise<Response>;
}

/** What {@link route} takes: a {@link Route} whose `run` sees the parameters its `path` declares. */
export interface RouteSpec<Path extends string> {
  /** The operation's name, e.g. `detail`. */
  operation: string;
  /** The path pattern: segments separated by `/`, `:name` for a parameter, no leading or trailing slash. */
  path: Path;
  /** Methods served, upper case, e.g. `['GET', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']`. */
  methods: readonly string[];
  /** The operation. Throwing hands the error to the dialect's `operationError`. */
  run: (context: RouteContext<ParamsOf<Path>>) => Promise<Response>;
}

/**
 * Declares a route. `run` sees the parameters its path declares, typed.
 *
 * @example
 * ```ts
 * route({
 *   operation: 'detail',
 *   path: 'webhooks/:id',
 *   methods: ['GET', 'HEAD', 'OPTIONS'],
 *   run: async ({ scope, params }) => jsonResponse(200, await load(scope, params.id)),
 * });
 * ```
 */
export function route<const Path extends string>(spec: RouteSpec<Path>): Route {
  // The table fills `params` from this very path, so the narrower type holds.
  return { ...spec, run: spec.run as Route['run'] };
}

/**
 * The same routes below a prefix, e.g. `prefixRoutes('instances/:scope/private', routes)`.
 *
 * @example
 * ```ts
 * const routes = [...prefixRoutes('private', webhookRoutes), ...prefixRoutes('instances/:scope/private', webhookRoutes)];
 * ```
 */
export function prefixRoutes(prefix: string, routes: readonly Route[]): Route[] {
  return routes.map((entry) => ({ ...entry, path: `${prefix}/${entry.path}` }));
}

/** A refusal from `authorize`: everything but `true`. */
export type Denial = Exclude<AuthorizeResult, true>;

/** The answers a dialect gives, in its own error shapes and headers. */
export interface DialectResponses {
  /**
   * No route: the URL does not parse (`pathname` `null`), the path is outside the dialect
   * (then the skeleton marks the answer for `isUnmatched`), or no pattern matches.
   */
  notFound(pathname: string | null): Response;
  /** The method is not in `context.allow` (set the `Allow` header from it). */
  methodNotAllowed(context: RouteContext): Response;
  /** `OPTIONS` on a route that lists it. */
  options(context: RouteContext): Response;
  /** `authorize` refused (`false`, `'unauthenticated'` or `'invalid_token'`). */
  denied(context: RouteContext, decision: Denial): Response;
  /** The scope is not a valid name or `scopeExists` said no. */
  unknownScope(context: RouteContext): Response;
  /**
   * An error an operation threw, as the dialect answers it (not found, invalid, conflict...);
   * `undefined` for "not mine": it is reported to `onError` and answered with `internalError`.
   */
  operationError(error: unknown, context: RouteContext): Response | undefined;
  /** The generic 500 for anything unexpected (a throwing `authorize`, a failing store). */
  internalError(): Response;
  /** The OpenAPI document, 200. */
  document(document: OpenApiDocument): Response;
}

/** Options of {@link createDialectHandler}. */
export interface DialectHandlerOptions {
  /** The handler's options after `resolveOptions` (authorize, basePath, limits, onError...). */
  options: ResolvedOptions;
  /**
   * The route table, matched in order among the patterns with as many segments as the path.
   * The literal first segments are the dialect's roots: other paths are "unmatched".
   */
  routes: readonly Route[];
  /** The answers in the dialect's shapes. */
  responses: DialectResponses;
  /**
   * The scope of routes without a `:scope` parameter. Default: none (then every route must
   * have one; a route without throws a `TypeError` when the handler is built).
   */
  defaultScope?: string;
  /** `optional`: `/a/b` and `/a/b/` both match; `forbidden`: `/a/b/` is not found. Default `optional`. */
  trailingSlash?: 'optional' | 'forbidden';
  /**
   * When access is checked: `before-method` (authorize, then 405, then OPTIONS: a refused
   * client learns nothing about the route) or `after-method` (405 and OPTIONS are answered
   * without authorization). Default `before-method`.
   */
  checkAccess?: 'before-method' | 'after-method';
  /**
   * When the scope's existence is checked: `after-authorize` (only for an allowed request, so
   * an unknown scope looks like a forbidden one) or `before-authorize` (`authorize` is never
   * asked about an unknown scope). Default `after-authorize`.
   */
  checkScope?: 'before-authorize' | 'after-authorize';
  /** The permission a method needs. Default: GET, HEAD, OPTIONS `webhooks-read`, others `webhooks-write`. */
  permission?: (method: string) => Permission;
  /**
   * Serving the OpenAPI document at `options.openApiPath`: the methods answered there and the
   * builder (called once, on the first request). Default: not served.
   */
  openApi?: { methods: readonly string[]; build: () => OpenApiDocument };
}

const defaultPermission = (method: string): Permission =>
  isSafeMethod(method) ? 'webhooks-read' : 'webhooks-write';

/**
 * Builds a dialect's Fetch handler from its route table and answers. Per request: the URL is
 * parsed once, the path split once, and the table (compiled here, once) compares literal
 * segments; no regular expression is built.
 *
 * Order: unparseable URL → `notFound(null)`, unmatched; OpenAPI path → `document`; outside
 * `basePath` or the table's roots → `notFound`, unmatched; no pattern → `notFound`; then
 * access (see `checkAccess`, `checkScope`), 405, OPTIONS, the operation. HEAD answers lose
 * their body. Never rejects: unexpected errors go to `onError` and become `internalError()`.
 *
 * @example
 * ```ts
 * const handler = createDialectHandler({
 *   options: resolveOptions(options, 'svixHandler()', '/api/v1'),
 *   routes: prefixRoutes('app/:scope', [route({ operation: 'list', path: 'endpoint', methods: ['GET', 'HEAD'], run })]),
 *   responses: svixResponses,
 * });
 * ```
 */
export function createDialectHandler(dialect: DialectHandlerOptions): FetchHandler {
  const { options, responses, defaultScope, openApi } = dialect;
  const basePath = options.basePath;
  const forbidTrailingSlash = dialect.trailingSlash === 'forbidden';
  const accessFirst = (dialect.checkAccess ?? 'before-method') === 'before-method';
  const scopeFirst = dialect.checkScope === 'before-authorize';
  const permission = dialect.permission ?? defaultPermission;
  const table = compileRoutes(
    dialect.routes.map((entry) => {
      if (defaultScope === undefined && !entry.path.split('/').includes(':scope')) {
        throw new TypeError(
          `hookline/http: route "${entry.path}" has no :scope and there is no defaultScope`,
        );
      }
      return { pattern: entry.path, value: entry };
    }),
  );
  let document: OpenApiDocument | undefined;

  async function access(context: RouteContext): Promise<Response | null> {
    if (scopeFirst && !(await scopeKnown(options, context.scope))) return responses.unknownScope(context);
    const decision = await authorizeRequest(
      options,
      context.request,
      context.scope,
      permission(context.method),
    );
    if (decision !== true) return responses.denied(context, decision);
    if (!scopeFirst && !(await scopeKnown(options, context.scope))) return responses.unknownScope(context);
    return null;
  }

  async function dispatch(context: RouteContext, run: Route['run']): Promise<Response> {
    if (accessFirst) {
      const refusal = await access(context);
      if (refusal !== null) return refusal;
    }
    if (!context.allow.includes(context.method)) return responses.methodNotAllowed(context);
    if (context.method === 'OPTIONS') return responses.options(context);
    if (!accessFirst) {
      const refusal = await access(context);
      if (refusal !== null) return refusal;
    }
    try {
      return await run(context);
    } catch (error) {
      const answer = responses.operationError(error, context);
      if (answer === undefined) throw error;
      return answer;
    }
  }

  return async (request: Request): Promise<Response> => {
    const url = pathnameOf(request);
    if (url === null) return markUnmatched(responses.notFound(null));
    const method = requestMethod(request);
    if (
      openApi !== undefined &&
      options.openApiPath !== undefined &&
      url.pathname === options.openApiPath &&
      openApi.methods.includes(method)
    ) {
      document ??= openApi.build();
      const response = responses.document(document);
      return method === 'HEAD' ? withoutBody(response) : response;
    }
    if (!belongsTo(url.pathname, basePath, table.roots)) {
      return markUnmatched(responses.notFound(url.pathname));
    }
    const split = splitPath(url.pathname, basePath);
    const match =
      split === null || (forbidTrailingSlash && split.trailingSlash) ? null : table.match(split.segments);
    if (match === null) return responses.notFound(url.pathname);
    const entry = match.value;
    const context: RouteContext = {
      request,
      url,
      method,
      operation: entry.operation,
      // Checked when the table was built: a route without `:scope` has a default scope.
      scope: match.params.scope ?? (defaultScope as string),
      params: match.params,
      allow: entry.methods,
    };
    let response: Response;
    try {
      response = await dispatch(context, entry.run);
    } catch (error) {
      report(options, error, request);
      response = responses.internalError();
    }
    return method === 'HEAD' ? withoutBody(response) : response;
  };
}
